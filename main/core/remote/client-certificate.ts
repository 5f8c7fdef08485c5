import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/load-config.ts';

/** The app's certificate, checked and ready for MSAL. */
export interface ClientCertificate {
  /** The leaf's subject on one line, for the start log. */
  subject: string;
  /** Hex SHA-256 of the leaf's DER, as MSAL wants it for the `x5t#S256` header. */
  thumbprintSha256: string;
  /** The private key as PKCS#8 PEM. */
  privateKeyPem: string;
  /** The certificates, leaf first, as PEM: MSAL sends them as `x5c` for subject-name/issuer auth. */
  chainPem: string;
  validTo: Date;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/g;
const MAKE_ONE =
  'put the certificate (leaf first, then any intermediates) and its unencrypted RSA private key in one PEM file, e.g. cat cert.pem key.pem > valet.pem';

/**
 * Reads one PEM holding the app's certificate (leaf first, optionally its chain) and the leaf's
 * private key, and checks what Entra would refuse later: no key, no certificate, a key that
 * is not the certificate's, a key that is not RSA (MSAL signs with PS256), or a certificate
 * outside its validity. Messages name the file, never the key.
 */
export async function readClientCertificate(
  credential: { file: string; setting: string },
  now: Date,
): Promise<ClientCertificate> {
  const where = `${credential.setting} ${credential.file}`;
  const fail = (problem: string, fix = MAKE_ONE) =>
    new ConfigError('clientCertFile', `${where} ${problem}: ${fix}`);
  let pem: string;
  try {
    pem = await readFile(credential.file, 'utf8');
  } catch (err) {
    throw fail(
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'EUNKNOWN'})`,
      'check the path and that this user can read the file',
    );
  }

  const certBlocks = pem.match(CERT_BLOCK) ?? [];
  if (certBlocks.length === 0) throw fail('holds no certificate');
  const keyBlocks = [...pem.matchAll(KEY_BLOCK)];
  if (keyBlocks.length === 0) throw fail('holds no private key');
  if (keyBlocks.length > 1) throw fail('holds more than one private key');
  const keyBlock = keyBlocks[0] as RegExpExecArray;
  if (keyBlock[1] === 'ENCRYPTED PRIVATE KEY')
    throw fail(
      'holds an encrypted private key',
      'store the key unencrypted in an owner-only file (openssl pkey -in key.pem -out plain.pem), with the certificate',
    );

  let certs: X509Certificate[];
  try {
    certs = certBlocks.map((block) => new X509Certificate(block));
  } catch {
    throw fail('holds a certificate that cannot be parsed');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlock[0]);
  } catch {
    throw fail('holds a private key that cannot be parsed');
  }

  const leaf = certs[0] as X509Certificate;
  const thumbprintSha256 = leaf.fingerprint256.replace(/:/g, '');
  if (!leaf.checkPrivateKey(key))
    throw fail(
      `holds a private key that does not belong to its first certificate (SHA-256 thumbprint ${thumbprintSha256})`,
      "put the certificate's own key in the file, with that certificate first",
    );
  if (key.asymmetricKeyType !== 'rsa')
    throw fail(
      `holds ${key.asymmetricKeyType === 'ec' ? 'an EC' : `a ${key.asymmetricKeyType ?? 'non-RSA'}`} key`,
      'Entra client certificates must be RSA: make one with openssl req -x509 -newkey rsa:2048 …',
    );
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (validTo.getTime() <= now.getTime())
    throw fail(
      `holds a certificate that expired on ${validTo.toISOString()}`,
      'upload a new certificate to the app registration and put it and its key here',
    );
  if (validFrom.getTime() > now.getTime())
    throw fail(
      `holds a certificate that is not valid before ${validFrom.toISOString()}`,
      "check this host's clock, or use a certificate that is valid now",
    );

  return {
    subject: leaf.subject.replace(/\n/g, ', '),
    thumbprintSha256,
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    chainPem: certs.map((c) => c.toString()).join(''),
    validTo,
  };
}
