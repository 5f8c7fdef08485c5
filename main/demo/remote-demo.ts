import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/util/atomic-file.ts';
import { startDemoEnvironment, type DemoEnvironment } from './demo-environment.ts';
import {
  createAppCertificate,
  issueServerCertificate,
  type CertificateAuthority,
} from './idp/index.ts';

/** Settings an admin's shell may hold that would give the demo's server a second credential. */
const OTHER_CREDENTIALS = [
  'VALET_CLIENT_SECRET',
  'VALET_CLIENT_ASSERTION',
  'VALET_CLIENT_ASSERTION_FILE',
  'VALET_MI_CLIENT_ID',
  'AZURE_FEDERATED_TOKEN_FILE',
  'VALET_REDIS_URL',
] as const;

/** The remote demo, ready to serve: its tenant, and how `serve --remote` is to be run against it. */
export interface RemoteDemo {
  environment: DemoEnvironment;
  /** `https://localhost:<port>`, signed by the demo CA. */
  publicUrl: string;
  /** The environment `serve --remote` reads: the demo tenant, the app's certificate, its data dir. */
  env: NodeJS.ProcessEnv;
  /** The flags `serve --remote` would be given. */
  flags: { listen: string; tlsCert: string; tlsKey: string; auth: 'valet' | 'entra' | 'both' };
}

/**
 * Prepares the team server of the demo in `dataDir`: a port, an https certificate for localhost
 * from the demo CA, a certificate credential for the app registration (the kind Microsoft
 * recommends over a secret), both kept 0600, and the demo tenant holding that registration with
 * its redirect URI and API at the public URL.
 */
export async function prepareRemoteDemo(options: {
  ca: CertificateAuthority;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  port?: number;
  auth?: 'valet' | 'entra' | 'both';
}): Promise<RemoteDemo> {
  const { ca, dataDir } = options;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const port = options.port ?? (await freePort());
  const publicUrl = `https://localhost:${port}`;
  const tls = await issueServerCertificate(ca, { dns: ['localhost'], ips: ['127.0.0.1'] });
  const app = await createAppCertificate('MCP Valet demo team server');
  const files = {
    tlsCert: join(dataDir, 'server-cert.pem'),
    tlsKey: join(dataDir, 'server-key.pem'),
    credential: join(dataDir, 'app-credential.pem'),
  };
  await writeFileAtomic(files.tlsCert, tls.certPem);
  await writeFileAtomic(files.tlsKey, tls.keyPem);
  await writeFileAtomic(files.credential, `${app.certPem}${app.privateKey}`);
  const environment = await startDemoEnvironment(ca, { publicUrl, certificatePem: app.certPem });
  const env: NodeJS.ProcessEnv = { ...options.env };
  for (const name of OTHER_CREDENTIALS) delete env[name];
  Object.assign(env, environment.settings, {
    VALET_DATA_DIR: dataDir,
    VALET_CLIENT_CERT_FILE: files.credential,
  });
  return {
    environment,
    publicUrl,
    env,
    flags: {
      listen: `127.0.0.1:${port}`,
      tlsCert: files.tlsCert,
      tlsKey: files.tlsKey,
      auth: options.auth ?? 'both',
    },
  };
}

/** A port on 127.0.0.1 nothing listens on now: the public URL must be known before the IdP starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string')
    throw new Error('could not find a free port on 127.0.0.1');
  return address.port;
}
