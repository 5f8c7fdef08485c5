import tls from 'node:tls';

/**
 * Adds a certificate authority to those this process trusts for every TLS connection it
 * makes from now on (MSAL's and fetch's). Returns false where this Node cannot (before
 * 22.19 and 24.5): there only NODE_EXTRA_CA_CERTS, read at start, can.
 */
export function trustCa(certPem: string): boolean {
  const setDefault = (tls as Partial<typeof tls>).setDefaultCACertificates;
  if (!setDefault) return false;
  const current = tls.getCACertificates('default');
  if (!current.some((pem) => pem.trim() === certPem.trim())) setDefault([...current, certPem]);
  return true;
}
