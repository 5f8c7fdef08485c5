import { KeyObject, X509Certificate, createHash, randomBytes } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
} as const;

/** An app's certificate credential: what MSAL's `clientCertificate` takes, and the PEM to register. */
export interface ClientCertificate {
  certPem: string;
  /** PKCS#8 PEM of the RSA private key. */
  privateKey: string;
  /** Hex SHA-256 of the certificate's DER, MSAL's `thumbprintSha256`. */
  thumbprintSha256: string;
}

/** Makes a self-signed RSA certificate, as `New-SelfSignedCertificate` would for an app. */
export async function createClientCertificate(
  name = 'MCP Valet test app',
): Promise<ClientCertificate> {
  const keys = await crypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * 60 * 60 * 1000),
    keys,
    signingAlgorithm: RSA,
  });
  const certPem = cert.toString('pem');
  const privateKey = KeyObject.from(keys.privateKey)
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const thumbprintSha256 = createHash('sha256')
    .update(new X509Certificate(certPem).raw)
    .digest('hex');
  return { certPem, privateKey, thumbprintSha256 };
}
