import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGraph } from '../../main/demo/graph/index.ts';
import type { IdpConfidentialClient, IdpOptions, RunningIdp } from '../../main/demo/idp/index.ts';
import { cliEnv, spawnCli, type CliProcess } from './cli.ts';
import { startTestIdp } from './idp.ts';
import { freePort, startRedisServer, type TestRedis } from './redis-server.ts';
import {
  REMOTE_CLIENT_ID,
  REMOTE_CLIENT_SECRET,
  rawRequest,
  type SeenResponse,
} from './remote-server.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.ts';
import { startGraphFor } from './valet.ts';

/** The cache key every instance of a cluster seals the shared token cache with. */
export const CLUSTER_CACHE_KEY = Buffer.alloc(32, 11).toString('base64');

/** How long an instance may take from spawn to its `ready` event. */
const READY_TIMEOUT_MS = 30_000;

/** One `mcp-valet serve --remote` process of the cluster, on a loopback port of its own. */
export interface ClusterInstance {
  readonly name: string;
  readonly port: number;
  /** Its VALET_DATA_DIR: config.json, the audit chain, the control file. */
  readonly dataDir: string;
  /** Its audit chain's folder. */
  readonly auditDir: string;
  /** The running process; undefined while killed. */
  process: CliProcess | undefined;
  /** The end of what it printed on stderr, across restarts, for a failing test's message. */
  stderr: string;
}

/** Options of startRemoteCluster. */
export interface ClusterOptions {
  /** Instance IDs, also their names in the proxy's rotation (`a`, `b` by default). */
  names?: readonly string[];
  /** Graph scopes an admin consented to for the server's web app (`User.Read` by default). */
  adminConsented?: readonly string[];
  /** The `policy` section of every instance's config.json, written before they start. */
  policy?: Record<string, unknown>;
  /** More settings of the test IdP. */
  idp?: Partial<Omit<IdpOptions, 'ca' | 'confidentialClients'>>;
}

/**
 * A team server scaled out as users would run it: a private Redis, N real `mcp-valet serve
 * --remote --redis` processes (own data dir and port each, one cache key), the test IdP with the
 * server's web app registered for the proxy's `/auth/callback`, the Graph stand-in, and a strict
 * round-robin proxy at the public URL `http://localhost:<proxy port>`.
 */
export interface RemoteCluster {
  redis: TestRedis;
  idp: RunningIdp;
  graph: RunningGraph;
  proxy: RoundRobinProxy;
  /** `http://localhost:<proxy port>`. */
  publicUrl: string;
  /** `<public>/mcp`. */
  mcpUrl: string;
  instances: ReadonlyMap<string, ClusterInstance>;
  instance(name: string): ClusterInstance;
  /** Sends a request straight to one instance, with the public Host, bypassing the proxy. */
  direct(
    name: string,
    path: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<SeenResponse>;
  /** SIGKILLs an instance (no clean-up of any kind) and takes it out of the rotation. */
  kill(name: string): Promise<void>;
  /** Starts a killed instance again on its port and data dir; back in the rotation once ready. */
  start(name: string): Promise<void>;
  /** An environment for the CLI that reaches the instance `name` (its data dir). */
  cliEnvFor(name: string): NodeJS.ProcessEnv;
  /** Writes the `policy` section of every instance's config.json (each re-reads it on change). */
  writePolicy(policy: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** Starts a cluster; everything listens on 127.0.0.1 and is stopped by close(). */
export async function startRemoteCluster(options: ClusterOptions = {}): Promise<RemoteCluster> {
  const names = options.names ?? ['a', 'b'];
  const root = await mkdtemp(join(tmpdir(), 'mv-cluster-'));
  const closers: Array<() => Promise<unknown>> = [() => rm(root, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const instances = new Map<string, ClusterInstance>();
    for (const name of names) {
      const dataDir = join(root, name);
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      if (options.policy) await writeConfig(dataDir, options.policy);
      instances.set(name, {
        name,
        port: await freePort(),
        dataDir,
        auditDir: join(dataDir, 'audit'),
        process: undefined,
        stderr: '',
      });
    }
    // The proxy listens first: its port is the public URL every other part is set up with.
    const proxy = await startRoundRobinProxy(
      [...instances.values()].map(({ name, port }) => ({ name, port })),
    );
    closers.push(() => proxy.close());
    const publicUrl = `http://localhost:${proxy.port}`;
    const redis = await startRedisServer();
    closers.push(() => redis.close());
    const webApp: IdpConfidentialClient = {
      clientId: REMOTE_CLIENT_ID,
      name: 'MCP Valet (team)',
      redirectUris: [`${publicUrl}/auth/callback`],
      secret: REMOTE_CLIENT_SECRET,
      adminConsentedScopes: options.adminConsented ?? ['User.Read'],
    };
    const idp = await startTestIdp({ ...options.idp, confidentialClients: [webApp] });
    closers.push(() => idp.close());
    const graph = await startGraphFor(idp);
    closers.push(() => graph.close());

    const envFor = (instance: ClusterInstance) =>
      cliEnv({
        VALET_DATA_DIR: instance.dataDir,
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_AUTHORITY: idp.authority,
        VALET_CLIENT_SECRET: REMOTE_CLIENT_SECRET,
        VALET_GRAPH_URL: graph.url,
        VALET_CACHE_KEY: CLUSTER_CACHE_KEY,
      });
    const instance = (name: string): ClusterInstance => {
      const found = instances.get(name);
      if (!found) throw new Error(`No instance ${name} in the cluster (${names.join(', ')})`);
      return found;
    };
    const launch = async (one: ClusterInstance) => {
      if (one.process) throw new Error(`Instance ${one.name} is already running`);
      const proc = spawnCli(
        [
          'serve',
          '--remote',
          '--redis',
          redis.url,
          '--listen',
          `127.0.0.1:${one.port}`,
          '--public-url',
          publicUrl,
          '--instance-id',
          one.name,
          '--json',
        ],
        envFor(one),
      );
      one.process = proc;
      proc.child.stderr.on('data', (chunk: string) => {
        one.stderr = (one.stderr + chunk).slice(-4000);
      });
      try {
        await proc.nextEvent('ready', READY_TIMEOUT_MS);
      } catch (err) {
        proc.child.kill('SIGKILL');
        one.process = undefined;
        throw new Error(`Instance ${one.name} did not start: ${(err as Error).message}`, {
          cause: err,
        });
      }
      proxy.setUp(one.name, true);
    };
    const kill = async (one: ClusterInstance) => {
      const proc = one.process;
      proxy.setUp(one.name, false);
      if (!proc) return;
      one.process = undefined;
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    };
    closers.push(async () => {
      // A clean stop, so every instance's audit chain is closed as it would be in service.
      await Promise.all(
        [...instances.values()].map(async (one) => {
          const proc = one.process;
          if (!proc) return;
          one.process = undefined;
          proc.child.kill('SIGTERM');
          const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
          await proc.exited;
          clearTimeout(timer);
        }),
      );
    });
    await Promise.all([...instances.values()].map(launch));

    return {
      redis,
      idp,
      graph,
      proxy,
      publicUrl,
      mcpUrl: `${publicUrl}/mcp`,
      instances,
      instance,
      direct: (name, path, init = {}) =>
        rawRequest(`http://127.0.0.1:${instance(name).port}${path}`, {
          ...init,
          headers: { host: `localhost:${proxy.port}`, ...init.headers },
        }),
      kill: (name) => kill(instance(name)),
      start: (name) => launch(instance(name)),
      cliEnvFor: (name) => cliEnv({ VALET_DATA_DIR: instance(name).dataDir }),
      writePolicy: async (policy) => {
        for (const one of instances.values()) await writeConfig(one.dataDir, policy);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function writeConfig(dataDir: string, policy: Record<string, unknown>): Promise<void> {
  await writeFile(join(dataDir, 'config.json'), JSON.stringify({ policy }));
}
