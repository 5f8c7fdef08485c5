import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { createCertificateAuthority } from './idp/ca.ts';
import type { CertificateAuthority } from './idp/types.ts';
import { readFileIfExists, writeFileAtomic } from '../core/util/atomic-file.ts';

/** Where the demo keeps its CA, and the bundle NODE_EXTRA_CA_CERTS must point at. */
export interface DemoCaFiles {
  ca: CertificateAuthority;
  /** The demo CA, plus any CA file the user already trusted through NODE_EXTRA_CA_CERTS. */
  bundlePath: string;
}

/**
 * Loads the demo's certificate authority from the demo data dir, or makes one the first
 * time. It is kept so that the trust bundle's path (read by Node at start) stays stable.
 */
export async function loadDemoCa(
  dataDir: string,
  existingExtraCa: string | undefined,
): Promise<DemoCaFiles> {
  const certPath = join(dataDir, 'demo-ca.pem');
  const keyPath = join(dataDir, 'demo-ca-key.pem');
  const bundlePath = join(dataDir, 'demo-ca-bundle.pem');
  let certPem = await readFileIfExists(certPath);
  let keyPem = await readFileIfExists(keyPath);
  if (!certPem || !keyPem || expired(certPem)) {
    ({ certPem, keyPem } = await createCertificateAuthority());
    await writeFileAtomic(keyPath, keyPem);
    await writeFileAtomic(certPath, certPem, 0o644);
  }
  const extra =
    existingExtraCa && existingExtraCa !== bundlePath
      ? await readFileIfExists(existingExtraCa)
      : undefined;
  const bundle = `${extra ? `${extra.trim()}\n` : ''}${certPem.trim()}\n`;
  if ((await readFileIfExists(bundlePath)) !== bundle)
    await writeFileAtomic(bundlePath, bundle, 0o644);
  return { ca: { certPem, keyPem }, bundlePath };
}

function expired(certPem: string): boolean {
  try {
    return Date.parse(new X509Certificate(certPem).validTo) < Date.now() + 24 * 3600_000;
  } catch {
    return true;
  }
}
