import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { freePort } from './free-port.ts';

/** Where Debian's redis-server package puts the server. */
export const REDIS_SERVER = '/usr/bin/redis-server';

/** A redis-server of the test's own on a loopback port, with no persistence. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s): clients see Redis go away. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty, and resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

/**
 * Starts redis-server on a free 127.0.0.1 port and resolves once it answers PING. Nothing is
 * saved (no RDB, no AOF), its working folder is a temporary one, and it listens on loopback
 * only. Fails, naming the Debian package, when redis-server is not installed.
 */
export async function startRedisServer(): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER))
    throw new Error(
      `${REDIS_SERVER} is missing: install Debian's redis-server package (apt-get install --no-install-recommends redis-server), as .ci/run does.`,
    );
  const dir = await mkdtemp(join(tmpdir(), 'mv-redis-'));
  const port = await freePort();
  let server: ChildProcess | undefined;
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (server) throw new Error('the test Redis is already running');
      server = await launch(port, dir);
    },
    async stop() {
      const running = server;
      server = undefined;
      if (running) await terminate(running);
    },
    async close() {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await redis.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return redis;
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
    '--loglevel', 'warning',
  ]; // prettier-ignore
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
  child.once('error', (err) => (exited = `could not start (${err.message})`));
  for (const deadline = Date.now() + 10_000; !(await answersPing(port)); await sleep(10)) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `redis-server on 127.0.0.1:${port} ${exited ?? 'did not answer PING within 10 s'}: ${output.trim()}`,
      );
    }
  }
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Whether a server on `port` answers PING with PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export { freePort };

/**
 * A plain client of the test's Redis, connected, for looking at what the server wrote. It
 * retries every 50 ms while Redis is away and never throws on its own errors; destroy it when done.
 */
export async function connectAdmin(redis: Pick<TestRedis, 'url'>) {
  const client = createClient({ url: redis.url, socket: { reconnectStrategy: 50 } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** A plain node-redis client, as `redis-cli` would look at the store. */
export type AdminClient = Awaited<ReturnType<typeof connectAdmin>>;
