import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { issueServerCertificate, type IdpConfidentialClient } from '../../main/demo/idp/index.ts';
import { loadRemoteConfig, type RemoteConfig } from '../../main/core/remote/remote-config.ts';
import {
  startRemoteServer,
  type RemoteServerDeps,
  type RunningRemoteServer,
} from '../../main/core/remote/server/start-remote-server.ts';
import type { Logger } from '../../main/core/util/logger.ts';
import { freePort } from './free-port.ts';

/** The remote server's app registration in tests. */
export const REMOTE_CLIENT_ID = '8c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f';
/** Its client secret at the test IdP. */
export const REMOTE_CLIENT_SECRET = 'remote-web-app-secret';

/**
 * The remote server's app registration at the test IdP: a web app with the secret, its sign-in
 * coming back to the server on `port`, and (with `adminConsented`) every tool's Graph scope
 * consented by an admin.
 */
export function remoteWebApp(
  port: number,
  options: { adminConsented?: readonly string[] } = {},
): IdpConfidentialClient {
  return {
    clientId: REMOTE_CLIENT_ID,
    name: 'MCP Valet (remote)',
    redirectUris: [`https://localhost:${port}/auth/callback`],
    secret: REMOTE_CLIENT_SECRET,
    ...(options.adminConsented ? { adminConsentedScopes: options.adminConsented } : {}),
  };
}
/** A tenant for servers that never reach an authority. */
export const OFFLINE_TENANT = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
/** An authority on a closed loopback port: anything that tried to reach it would fail here. */
export const OFFLINE_AUTHORITY = `https://localhost:1/${OFFLINE_TENANT}`;

export { freePort };

/** A temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-valet-remote-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The settings of a server whose authority is on a closed port (its metadata comes from a file
 * in `dir`), so that nothing is fetched: for tests whose tokens are minted in the store.
 */
export async function offlineRemoteEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  return {
    VALET_CLIENT_ID: REMOTE_CLIENT_ID,
    VALET_AUTHORITY: OFFLINE_AUTHORITY,
    VALET_AUTHORITY_METADATA_FILE: await writeAuthorityMetadata(dir, OFFLINE_AUTHORITY),
    VALET_CLIENT_SECRET: 'not-used-offline',
  };
}

/** Writes an OpenID configuration for `authority` (as VALET_AUTHORITY_METADATA_FILE reads it). */
export async function writeAuthorityMetadata(dir: string, authority: string): Promise<string> {
  const file = join(dir, 'openid-configuration.json');
  const v2 = `${authority}/oauth2/v2.0`;
  await writeFile(
    file,
    JSON.stringify({
      issuer: `${authority}/v2.0`,
      authorization_endpoint: `${v2}/authorize`,
      token_endpoint: `${v2}/token`,
      end_session_endpoint: `${v2}/logout`,
      jwks_uri: `${authority}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
    }),
  );
  return file;
}

/** Writes a certificate for localhost and 127.0.0.1 from the run's CA; returns the PEM files. */
export async function writeTlsFiles(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const certificate = await issueServerCertificate(inject('idpCa'), {
    dns: ['localhost'],
    ips: ['127.0.0.1'],
  });
  const certFile = join(dir, 'tls-cert.pem');
  const keyFile = join(dir, 'tls-key.pem');
  await writeFile(certFile, certificate.certPem);
  await writeFile(keyFile, certificate.keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}

/** A logger that keeps its lines, so tests can read (and scan) what the server logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return {
    lines,
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
}

/** A remote server started in this process from a real configuration. */
export interface TestRemote {
  server: RunningRemoteServer;
  config: RemoteConfig;
  publicUrl: string;
  logger: Logger & { lines: string[] };
  close(): Promise<void>;
}

/**
 * Starts a remote server in this process on a free loopback port, its public URL
 * `http(s)://localhost:<port>`, configured through the environment as a user would. Its data
 * dir (config.json, the audit log) is `dir` unless `env` names another, so no test writes to
 * the user's own.
 */
export async function startTestRemote(
  env: NodeJS.ProcessEnv,
  options: { https?: boolean; dir: string; port?: number; deps?: Partial<RemoteServerDeps> },
): Promise<TestRemote> {
  const port = options.port ?? (await freePort());
  const publicUrl = `${options.https ? 'https' : 'http'}://localhost:${port}`;
  const tls = options.https ? await writeTlsFiles(options.dir) : undefined;
  const config = await loadRemoteConfig({
    VALET_PUBLIC_URL: publicUrl,
    VALET_LISTEN: `127.0.0.1:${port}`,
    VALET_DATA_DIR: options.dir,
    ...(tls ? { VALET_TLS_CERT_FILE: tls.certFile, VALET_TLS_KEY_FILE: tls.keyFile } : {}),
    ...env,
  });
  const logger = recordingLogger();
  const server = await startRemoteServer(config, { logger, ...options.deps });
  return { server, config, publicUrl, logger, close: () => server.close() };
}

/** An HTTP response as a test sees it. */
export interface SeenResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A raw JSON-RPC POST to an MCP endpoint with a bearer token, as a client sends it; `body` is
 * sent as it is when it is a string (bad JSON, say), as JSON otherwise.
 */
export function postMcpRequest(url: string, token: string, body: unknown): Promise<SeenResponse> {
  return rawRequest(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * Sends a request to the server's loopback address with the headers given, Host included
 * (fetch does not let a caller choose Host), and reads the whole answer.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<SeenResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: { host: target.host, ...options.headers },
        servername: 'localhost',
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A JWT's shape: a base64url JSON header and payload (each starts `eyJ`, base64 of `{"`) joined
 * by a dot. A lone `eyJ` is no token: random base64url (our opaque tokens, ciphertext) holds it
 * now and then.
 */
export const JWT_SHAPE = /eyJ[A-Za-z0-9_-]*\.eyJ/;

/**
 * Everything the server sent that a test saw, kept to be searched for Entra tokens (JWTs), none
 * of which may ever leave the server.
 */
export class ResponseLog {
  readonly #texts: string[] = [];

  /** Keeps a response's headers and body. */
  add(response: { headers: object; body: string }): void {
    this.#texts.push(JSON.stringify(response.headers), response.body);
  }

  /** Keeps any text the server produced (a log line, a page). */
  addText(text: string): void {
    this.#texts.push(text);
  }

  /** How many texts were kept. */
  get size(): number {
    return this.#texts.length;
  }

  /** The kept texts that hold something shaped like a JWT. */
  withTokens(): string[] {
    return this.#texts.filter((t) => JWT_SHAPE.test(t));
  }
}
