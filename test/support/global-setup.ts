import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createCertificateAuthority } from '../../main/demo/idp/index.ts';
import type { CertificateAuthority } from '../../main/demo/idp/index.ts';

// How tests get the run's CA:
// - Its certificate file is in NODE_EXTRA_CA_CERTS, set here before Vitest forks the test
//   workers; Node reads it at process start, so `fetch` (and MSAL) in every worker trust
//   the test IdP.
// - The certificate and key themselves are provided as `idpCa`: `inject('idpCa')` in a
//   test, or simply `startTestIdp()` from ./idp.ts, which signs the IdP's server
//   certificate with it.

declare module 'vitest' {
  export interface ProvidedContext {
    /** The certificate authority of this test run (see test/support/global-setup.ts). */
    idpCa: CertificateAuthority;
  }
}

/** Vitest global setup: one CA per run, trusted by every test worker. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ca = await createCertificateAuthority();
  const dir = await mkdtemp(join(tmpdir(), 'mcp-valet-test-ca-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.certPem, { mode: 0o600 });
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  project.provide('idpCa', ca);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
