import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '../../../main/core/config/load-config.ts';
import type { ClientCredential } from '../../../main/core/remote/client-credential.ts';
import { buildMsalCredential } from '../../../main/core/remote/credentials.ts';
import { SecretValue } from '../../../main/core/remote/secret-value.ts';
import { issueServerCertificate } from '../../../main/demo/idp/ca.ts';

x509.cryptoProvider.set(globalThis.crypto);

const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const TENANT_ID = '99999999-8888-4777-8666-555555555555';
const DAY_MS = 24 * 60 * 60 * 1000;
const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

interface MadeCertificate {
  certPem: string;
  keyPem: string;
}

/** A self-signed certificate and its PKCS#8 key, as an app registration's certificate would be. */
async function makeCertificate(
  options: { notBefore?: Date; notAfter?: Date; ec?: boolean } = {},
): Promise<MadeCertificate> {
  const algorithm = options.ec ? EC : RSA;
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=mcp-valet-remote-test',
    notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 30 * DAY_MS),
    keys,
    signingAlgorithm: algorithm,
  });
  const keyPem = KeyObject.from(keys.privateKey)
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return { certPem: cert.toString('pem'), keyPem };
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'valet-credentials-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function certFile(pem: string): Promise<ClientCredential> {
  const file = join(dir, 'app.pem');
  await writeFile(file, pem, { mode: 0o600 });
  return { kind: 'certificate', file, setting: 'VALET_CLIENT_CERT_FILE' };
}

async function certFailure(pem: string): Promise<string> {
  const err = await buildMsalCredential(await certFile(pem)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  expect(message).not.toContain('PRIVATE KEY');
  return message;
}

describe('buildMsalCredential with a certificate', () => {
  it('gives MSAL the hex SHA-256 thumbprint, the PEM key and the certificate as x5c', async () => {
    const made = await makeCertificate();
    const built = await buildMsalCredential(await certFile(`${made.certPem}\n${made.keyPem}`));
    const cert = built.auth.clientCertificate;
    const expected = new X509Certificate(made.certPem).fingerprint256.replace(/:/g, '');
    expect(cert?.thumbprintSha256).toBe(expected);
    expect(cert?.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
    expect(createPrivateKey(cert?.privateKey ?? '').equals(createPrivateKey(made.keyPem))).toBe(
      true,
    );
    expect(new X509Certificate(cert?.x5c ?? '').fingerprint256).toBe(
      new X509Certificate(made.certPem).fingerprint256,
    );
    expect(built.description).toContain(`SHA-256 thumbprint ${expected}`);
    expect(built.description).not.toContain('PRIVATE KEY');
  });

  it('signs MSAL client assertions that carry x5t#S256 and x5c and verify with the certificate', async () => {
    const made = await makeCertificate();
    const built = await buildMsalCredential(await certFile(`${made.keyPem}${made.certPem}`));
    const tls = await issueServerCertificate(inject('idpCa'), { dns: ['localhost'], ips: [] });
    const assertions: string[] = [];
    const server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      const origin = `https://localhost:${(server.address() as AddressInfo).port}/${TENANT_ID}`;
      if (req.method === 'GET') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            issuer: `${origin}/v2.0`,
            authorization_endpoint: `${origin}/oauth2/v2.0/authorize`,
            token_endpoint: `${origin}/oauth2/v2.0/token`,
            end_session_endpoint: `${origin}/oauth2/v2.0/logout`,
            jwks_uri: `${origin}/discovery/v2.0/keys`,
          }),
        );
        return;
      }
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        assertions.push(new URLSearchParams(body).get('client_assertion') ?? '');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ token_type: 'Bearer', access_token: 'at', expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const cca = new ConfidentialClientApplication({
        auth: {
          clientId: CLIENT_ID,
          authority: `https://localhost:${port}/${TENANT_ID}`,
          knownAuthorities: [`localhost:${port}`],
          ...built.auth,
        },
      });
      await cca.acquireTokenByClientCredential({ scopes: [`api://${CLIENT_ID}/.default`] });
      expect(assertions).toHaveLength(1);
      const assertion = assertions[0] as string;
      const header = decodeProtectedHeader(assertion);
      const leaf = new X509Certificate(made.certPem);
      expect(header['x5t#S256']).toBe(
        Buffer.from(leaf.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url'),
      );
      expect(header.x5c).toEqual([leaf.raw.toString('base64')]);
      const { payload } = await jwtVerify(assertion, createPublicKey(made.certPem), {
        audience: `https://localhost:${port}/${TENANT_ID}/oauth2/v2.0/token`,
        issuer: CLIENT_ID,
        subject: CLIENT_ID,
        // MSAL rounds its nbf to the nearest second, so it can be half a second ahead.
        clockTolerance: 2,
      });
      expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
    } finally {
      server.close();
    }
  });

  it('refuses a key that is not the certificate’s own', async () => {
    const made = await makeCertificate();
    const other = await makeCertificate();
    const message = await certFailure(`${made.certPem}${other.keyPem}`);
    const thumbprint = new X509Certificate(made.certPem).fingerprint256.replace(/:/g, '');
    expect(message).toBe(
      `VALET_CLIENT_CERT_FILE ${join(dir, 'app.pem')} holds a private key that does not belong to its first certificate (SHA-256 thumbprint ${thumbprint}): put the certificate's own key in the file, with that certificate first`,
    );
  });

  it('refuses a PEM with no private key, or with no certificate', async () => {
    const made = await makeCertificate();
    expect(await certFailure(made.certPem)).toMatch(
      /^VALET_CLIENT_CERT_FILE \S+ holds no private key: put the certificate \(leaf first, then any intermediates\) and its unencrypted RSA private key in one PEM file/,
    );
    expect(await certFailure(made.keyPem)).toMatch(
      /^VALET_CLIENT_CERT_FILE \S+ holds no certificate: put the certificate/,
    );
  });

  it('refuses an expired certificate, saying when it expired', async () => {
    const notAfter = new Date(Math.floor((Date.now() - DAY_MS) / 1000) * 1000);
    const made = await makeCertificate({ notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter });
    expect(await certFailure(`${made.certPem}${made.keyPem}`)).toMatch(
      new RegExp(
        `^VALET_CLIENT_CERT_FILE \\S+ holds a certificate that expired on ${notAfter.toISOString()}: upload a new certificate`,
      ),
    );
  });

  it('refuses an EC certificate, since Entra and MSAL sign client assertions with RSA', async () => {
    const made = await makeCertificate({ ec: true });
    expect(await certFailure(`${made.certPem}${made.keyPem}`)).toMatch(
      /^VALET_CLIENT_CERT_FILE \S+ holds an EC key: Entra client certificates must be RSA/,
    );
  });
});

describe('buildMsalCredential with an assertion file', () => {
  it('reads the token file again on every call, so a rotated token is used', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'eyJ.first.token\n');
    const built = await buildMsalCredential({
      kind: 'assertion-file',
      file,
      setting: 'AZURE_FEDERATED_TOKEN_FILE',
    });
    const callback = built.auth.clientAssertion as (c: { clientId: string }) => Promise<string>;
    expect(await callback({ clientId: CLIENT_ID })).toBe('eyJ.first.token');
    await writeFile(file, 'eyJ.second.token');
    expect(await callback({ clientId: CLIENT_ID })).toBe('eyJ.second.token');

    await writeFile(file, '  \n');
    await expect(callback({ clientId: CLIENT_ID })).rejects.toThrow(
      `The federated token file ${file} (AZURE_FEDERATED_TOKEN_FILE) is empty: check that the platform writes the workload identity token there`,
    );
    await rm(file);
    await expect(callback({ clientId: CLIENT_ID })).rejects.toThrow(
      `The federated token file ${file} (AZURE_FEDERATED_TOKEN_FILE) cannot be read (ENOENT): check that the platform still mounts the workload identity token there`,
    );
  });
});

describe('buildMsalCredential with a managed identity', () => {
  const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

  afterEach(() => {
    for (const [name, value] of [
      ['IDENTITY_ENDPOINT', saved.endpoint],
      ['IDENTITY_HEADER', saved.header],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('contacts nothing at start, then gets an api://AzureADTokenExchange token from the user-assigned identity', async () => {
    const miClientId = '22222222-3333-4444-8555-666666666666';
    const requests: URL[] = [];
    const server = createHttpServer((req, res) => {
      requests.push(new URL(req.url ?? '/', 'http://127.0.0.1'));
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          access_token: 'eyJ.mi.assertion',
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          resource: 'api://AzureADTokenExchange',
          token_type: 'Bearer',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
      process.env.IDENTITY_HEADER = 'identity-header-value';
      const built = await buildMsalCredential({
        kind: 'managed-identity',
        userAssignedClientId: miClientId,
        setting: 'VALET_CLIENT_ASSERTION',
      });
      expect(requests).toHaveLength(0);
      const callback = built.auth.clientAssertion as (c: { clientId: string }) => Promise<string>;
      expect(await callback({ clientId: CLIENT_ID })).toBe('eyJ.mi.assertion');
      expect(requests).toHaveLength(1);
      expect(requests[0]?.searchParams.get('resource')).toBe('api://AzureADTokenExchange');
      expect(requests[0]?.searchParams.get('client_id')).toBe(miClientId);
    } finally {
      server.close();
    }
  });
});

describe('buildMsalCredential with a secret', () => {
  it('passes the secret to MSAL and keeps it out of the description', async () => {
    const secret = 'Zq8~very.secret-value_for-the-app';
    const built = await buildMsalCredential({
      kind: 'secret',
      secret: new SecretValue(secret),
      setting: 'VALET_CLIENT_SECRET',
    });
    expect(built.auth.clientSecret).toBe(secret);
    expect(built.description).toBe('client secret (VALET_CLIENT_SECRET)');
  });
});
