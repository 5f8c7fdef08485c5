import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from '../support/cli.ts';
import { startRedisServer, type TestRedis } from '../support/redis-server.ts';
import {
  OFFLINE_AUTHORITY,
  REMOTE_CLIENT_ID,
  tempDir,
  writeAuthorityMetadata,
} from '../support/remote-server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deploy = `${root}.ci/deploy/`;

/** One instruction of a Dockerfile, its continuation lines joined. */
interface Instruction {
  op: string;
  args: string;
}

/** The stages of a Dockerfile, each with its FROM and its instructions. */
function parseDockerfile(text: string): Array<{ from: string; steps: Instruction[] }> {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Array<{ from: string; steps: Instruction[] }> = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') stages.push({ from: args, steps: [] });
    else stages.at(-1)?.steps.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** The image's environment: every `ENV a=b c=d` of the stage. */
function envOf(steps: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const step of steps.filter((s) => s.op === 'ENV'))
    for (const [, k = '', v = ''] of step.args.matchAll(/(\w+)=(\S+)/g)) env[k] = v;
  return env;
}

/** An exec-form instruction's argument list: `["node", "x"]`. */
function execForm(steps: Instruction[], op: string): string[] {
  const step = steps.filter((s) => s.op === op).at(-1);
  if (!step) throw new Error(`the image has no ${op}`);
  const json = op === 'HEALTHCHECK' ? step.args.replace(/^.*?\bCMD\s+/, '') : step.args;
  return JSON.parse(json) as string[];
}

/** An image path as it is in this checkout: /app/dist → dist, /app/healthcheck.mjs → .ci/deploy. */
function local(path: string): string {
  if (path.startsWith('/app/dist/')) return `${root}${path.slice('/app/'.length)}`;
  if (path === '/app/healthcheck.mjs') return `${deploy}healthcheck.mjs`;
  return path;
}

function run(command: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, command.slice(1), { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('the team server image (.ci/deploy/Dockerfile)', () => {
  let stages: ReturnType<typeof parseDockerfile>;
  let final: Instruction[];

  beforeAll(async () => {
    stages = parseDockerfile(await readFile(`${deploy}Dockerfile`, 'utf8'));
    final = stages.at(-1)?.steps ?? [];
  });

  it('is built in stages on Node 24 and runs as an unprivileged user with a health check', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:24-/);
    const user = final.filter((s) => s.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(execForm(final, 'HEALTHCHECK')).toEqual(['node', '/app/healthcheck.mjs']);
    // The runtime gets the production dependencies only, and no compilers.
    expect(final.some((s) => s.op === 'RUN' && /\bg\+\+|\bmake\b/.test(s.args))).toBe(false);
  });

  describe('its entrypoint and health check, run outside Docker on this checkout’s build', () => {
    let dir: { dir: string; remove: () => Promise<void> };
    let redis: TestRedis;
    let server: CliProcess | undefined;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      dir = await tempDir();
      redis = await startRedisServer();
      // The image's environment, with what a deployment sets: here its data dir is a temporary
      // folder and it listens on loopback instead of every interface.
      env = {
        PATH: process.env.PATH,
        HOME: dir.dir,
        ...envOf(final),
        VALET_DATA_DIR: dir.dir,
        // A port of the system's choosing: read back from `ready`, as the image's is known.
        VALET_LISTEN: '127.0.0.1:0',
        VALET_PUBLIC_URL: 'http://localhost',
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_AUTHORITY: OFFLINE_AUTHORITY,
        VALET_AUTHORITY_METADATA_FILE: await writeAuthorityMetadata(dir.dir, OFFLINE_AUTHORITY),
        VALET_CLIENT_SECRET: 'image-test-secret',
        VALET_REDIS_URL: redis.url,
        VALET_CACHE_KEY: Buffer.alloc(32, 5).toString('base64'),
      };
    });

    afterAll(async () => {
      server?.child.kill('SIGKILL');
      await dir?.remove();
      await redis?.close();
    });

    it('serves the team server over Redis from ENTRYPOINT and CMD with no devDependency, its health check passes, and fails once it stops', async () => {
      const [node, bin, ...entryArgs] = execForm(final, 'ENTRYPOINT');
      expect(node).toBe('node');
      const command = [...entryArgs, ...execForm(final, 'CMD')];
      expect(command).toEqual(['serve', '--remote', '--json']);
      // As in the image, where only the production dependencies are installed.
      server = spawnCli(command, env, local(bin ?? ''), [
        '--import',
        fileURLToPath(new URL('./refuse-dev-dependencies.ts', import.meta.url)),
      ]);
      const ready = await server.nextEvent('ready', 30_000);
      expect(ready).toMatchObject({ event: 'ready', store: 'redis' });
      expect(ready.listen).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      env.VALET_LISTEN = new URL(String(ready.listen)).host;

      const health = execForm(final, 'HEALTHCHECK').map(local);
      expect(await run(health, env)).toBe(0);

      server.child.kill('SIGTERM');
      await server.nextEvent('stopped', 10_000);
      await server.exited;
      expect(await run(health, env)).toBe(1);
    }, 60_000);
  });
});
