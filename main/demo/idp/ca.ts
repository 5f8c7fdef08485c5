import {
  KeyObject,
  X509Certificate,
  createHash,
  createPrivateKey,
  randomBytes,
  type webcrypto,
} from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { CertificateAuthority } from './types.ts';

// @peculiar/x509 needs a WebCrypto implementation; Node's is the global one.
x509.cryptoProvider.set(globalThis.crypto);

const DAY_MS = 24 * 60 * 60 * 1000;
// Certificates start a minute in the past so that a slightly skewed clock still accepts them.
const BACKDATE_MS = 60 * 1000;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const RSA_2048 = { ...RSA_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };

/** A server certificate and its key, PEM-encoded, ready for `https.createServer`. */
export interface ServerCertificate {
  certPem: string;
  keyPem: string;
}

function serialNumber(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;

function toPkcs8Pem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Creates a fresh EC P-256 certificate authority, valid for one year. */
export async function createCertificateAuthority(): Promise<CertificateAuthority> {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=MCP Valet test CA ${new Date(now).toISOString()}`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: toPkcs8Pem(keys.privateKey) };
}

async function importCaKey(keyPem: string): Promise<{ key: CryptoKey; algorithm: Algorithm }> {
  const keyObject = createPrivateKey(keyPem);
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  switch (keyObject.asymmetricKeyType) {
    case 'ec':
      return {
        key: await crypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']),
        algorithm: ECDSA_SHA256,
      };
    case 'rsa':
      return {
        key: await crypto.subtle.importKey('pkcs8', der, RSA_SHA256, false, ['sign']),
        algorithm: RSA_SHA256,
      };
    default:
      throw new Error(
        `The CA key is ${keyObject.asymmetricKeyType ?? 'of an unknown type'}; use an EC P-256 or RSA key.`,
      );
  }
}

/** Issues a 30-day server certificate for the given DNS names and IP addresses, signed by the CA. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  names: { dns: readonly string[]; ips: readonly string[] },
): Promise<ServerCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const { key: caKey, algorithm } = await importCaKey(ca.keyPem);
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  if (caCert.notAfter.getTime() <= now) {
    throw new Error(
      `The CA certificate expired on ${caCert.notAfter.toISOString()}; create a new CA.`,
    );
  }
  const notAfter = Math.min(now + 30 * DAY_MS, caCert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${names.dns[0] ?? names.ips[0] ?? 'localhost'}`,
    issuer: caCert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    // @peculiar/x509 types its keys with the DOM's CryptoKey; Node's is the same object.
    signingKey: caKey as unknown as x509.X509CertificateCreateWithKeyParams['signingKey'],
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: toPkcs8Pem(keys.privateKey) };
}

/** An app registration's certificate credential: the PEM to register, and what MSAL takes. */
export interface AppCertificate {
  certPem: string;
  /** PKCS#8 PEM of the RSA private key. */
  privateKey: string;
  /** Hex SHA-256 of the certificate's DER, MSAL's `thumbprintSha256`. */
  thumbprintSha256: string;
}

/**
 * Makes a self-signed RSA certificate for an app registration, valid for a day, as
 * `New-SelfSignedCertificate` would (MSAL signs its client assertion with the RSA key).
 */
export async function createAppCertificate(name = 'MCP Valet app'): Promise<AppCertificate> {
  const keys = await crypto.subtle.generateKey(RSA_2048, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${name}`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + DAY_MS),
    keys,
    signingAlgorithm: RSA_SHA256,
  });
  const certPem = cert.toString('pem');
  const thumbprintSha256 = createHash('sha256')
    .update(new X509Certificate(certPem).raw)
    .digest('hex');
  return { certPem, privateKey: toPkcs8Pem(keys.privateKey), thumbprintSha256 };
}
