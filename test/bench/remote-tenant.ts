// The remote benchmark's common ground: the demo tenant holding the team server's app
// registration at http://localhost:<port> (its certificate credential, the Valet.Use API), the
// Graph stand-in, and two data dirs whose limits are high enough to measure the layers rather
// than the limiter: one for the local endpoint, whose core is signed in as Adele with a
// read-only key for get_user_details, and one for the remote server.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoEnvironment, type DemoEnvironment } from '../../main/demo/demo-environment.ts';
import {
  createAppCertificate,
  DEMO_CLIENT_ID,
  DEMO_USERS,
  type IdpUser,
} from '../../main/demo/idp/index.ts';
import { freePort } from '../support/remote-server.ts';
import { signedInCore } from './bench-tenant.ts';

/** The tenant, the local endpoint's settings and the remote server's. */
export interface RemoteBenchTenant {
  environment: DemoEnvironment;
  user: IdpUser;
  /** `http://localhost:<port>`: loopback, as the local endpoint is, so neither pays for TLS. */
  publicUrl: string;
  /** The VALET_* environment of `serve` (the local endpoint), and its key. */
  local: { env: NodeJS.ProcessEnv; secret: string };
  /** The environment of the remote server in `mode`, as an admin would set it. */
  remoteEnv(mode: 'valet' | 'entra'): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

const RATE_LIMITS = {
  requestsPerMinute: 100_000,
  burst: 10_000,
  concurrentPerKey: 1_000,
  concurrentTotal: 10_000,
};

/** Starts the tenant with the CA whose files run.ts passed in BENCH_CA_CERT and BENCH_CA_KEY. */
export async function startRemoteBenchTenant(): Promise<RemoteBenchTenant> {
  const [user] = DEMO_USERS as [IdpUser];
  const ca = {
    certPem: await readFile(process.env.BENCH_CA_CERT!, 'utf8'),
    keyPem: await readFile(process.env.BENCH_CA_KEY!, 'utf8'),
  };
  const port = await freePort();
  const publicUrl = `http://localhost:${port}`;
  const app = await createAppCertificate('MCP Valet bench team server');
  const environment = await startDemoEnvironment(ca, { publicUrl, certificatePem: app.certPem });
  const { idp, graph } = environment;
  const dirs = {
    local: await mkdtemp(join(tmpdir(), 'valet-bench-local-')),
    remote: await mkdtemp(join(tmpdir(), 'valet-bench-remote-')),
  };
  const config = JSON.stringify({ policy: { rateLimits: RATE_LIMITS } });
  for (const dir of Object.values(dirs)) await writeFile(join(dir, 'config.json'), config);
  const credential = join(dirs.remote, 'app-credential.pem');
  await writeFile(credential, `${app.certPem}${app.privateKey}`, { mode: 0o600 });

  const localEnv = {
    ...process.env,
    VALET_DATA_DIR: dirs.local,
    VALET_CLIENT_ID: DEMO_CLIENT_ID,
    VALET_AUTHORITY: idp.authority,
    VALET_GRAPH_URL: graph.url,
    VALET_BROKER: 'off',
    VALET_ALLOW_PLAINTEXT_CACHE: '1',
    VALET_PORT: '0',
  };
  const { core, secret } = await signedInCore(localEnv, idp, user.username);
  // The serve process takes the audit log; this one only prepared the data dir.
  await core.close();

  return {
    environment,
    user,
    publicUrl,
    local: { env: localEnv, secret },
    remoteEnv: (mode) => ({
      ...process.env,
      ...environment.settings,
      VALET_DATA_DIR: dirs.remote,
      VALET_CLIENT_CERT_FILE: credential,
      VALET_LISTEN: `127.0.0.1:${port}`,
      VALET_REMOTE_AUTH: mode,
    }),
    close: async () => {
      await environment.close();
      for (const dir of Object.values(dirs)) await rm(dir, { recursive: true, force: true });
    },
  };
}
