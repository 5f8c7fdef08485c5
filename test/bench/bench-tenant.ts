// The benchmarks' common ground: the demo IdP and Graph stand-in, a data dir whose limits
// are high enough to measure the layers rather than the limiter, a core signed in as Adele,
// and a read-only valet key for get_user_details.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValetCore } from '../../main/core/app/valet-core.ts';
import { loadConfig } from '../../main/core/config/load-config.ts';
import { startGraphStandIn, type RunningGraph } from '../../main/demo/graph/index.ts';
import { DEMO_USERS, startIdp, type IdpUser, type RunningIdp } from '../../main/demo/idp/index.ts';

/** A signed-in benchmark tenant. */
export interface BenchTenant {
  idp: RunningIdp;
  graph: RunningGraph;
  core: ValetCore;
  /** The VALET_* environment of the data dir, for a `serve` process. */
  env: NodeJS.ProcessEnv;
  secret: string;
  close(): Promise<void>;
}

/**
 * A core on the data dir `env` names, signed in as `username` through the device code the IdP
 * approves, with a read-only valet key for get_user_details.
 */
export async function signedInCore(
  env: NodeJS.ProcessEnv,
  idp: RunningIdp,
  username: string,
): Promise<{ core: ValetCore; secret: string }> {
  const core = await ValetCore.create({ config: await loadConfig(env) });
  let approval: Promise<void> = Promise.resolve();
  await core.auth.signIn({
    method: 'device-code',
    scopes: ['User.Read'],
    onDeviceCode: (p) => (approval = idp.approveDeviceCode(p.userCode, username)),
  });
  await approval;
  const { secret } = await core.createKey({
    name: 'bench',
    tools: ['get_user_details'],
    readOnly: true,
    account: null,
  });
  return { core, secret };
}

/** Starts the tenant with the CA whose files run.ts passed in BENCH_CA_CERT and BENCH_CA_KEY. */
export async function startBenchTenant(name: string): Promise<BenchTenant> {
  const [adele] = DEMO_USERS as [IdpUser];
  const ca = {
    certPem: await readFile(process.env.BENCH_CA_CERT!, 'utf8'),
    keyPem: await readFile(process.env.BENCH_CA_KEY!, 'utf8'),
  };
  const idp = await startIdp({ ca, deviceCodeIntervalSeconds: 1 });
  const graph = await startGraphStandIn({
    issuer: idp.issuer,
    keys: { jwksUri: idp.jwksUri },
    users: [...idp.users],
  });
  const dataDir = await mkdtemp(join(tmpdir(), `valet-bench-${name}-`));
  const rateLimits = {
    requestsPerMinute: 100_000,
    burst: 10_000,
    concurrentPerKey: 1_000,
    concurrentTotal: 10_000,
  };
  await writeFile(join(dataDir, 'config.json'), JSON.stringify({ policy: { rateLimits } }));
  const env = {
    ...process.env,
    VALET_DATA_DIR: dataDir,
    VALET_CLIENT_ID: idp.clientIds[0]!,
    VALET_AUTHORITY: idp.authority,
    VALET_GRAPH_URL: graph.url,
    VALET_BROKER: 'off',
    VALET_ALLOW_PLAINTEXT_CACHE: '1',
    VALET_PORT: '0',
  };
  const { core, secret } = await signedInCore(env, idp, adele.username);
  return {
    idp,
    graph,
    core,
    env,
    secret,
    close: async () => {
      await core.close();
      await graph.close();
      await idp.close();
    },
  };
}
