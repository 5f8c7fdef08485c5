import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type CliEvent } from '../support/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The machine's own Node, older than 22.12: `mcp-valet` re-runs itself under .node/'s Node 24. */
const OLD_NODE = '/usr/bin/node';
let build: string;
let bin: string;

// The wrapper must be plain JavaScript for the old Node: build the CLI as `npm run build`
// does, into a folder of the checkout (so that node_modules and .node/ are found from it).
beforeAll(async () => {
  build = await mkdtemp(join(ROOT, 'test-results', 'ctrl-c-build-'));
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'main', '--noCheck', '--outDir', build],
    { cwd: ROOT },
  );
  bin = join(build, 'main/cli/bin.js');
}, 120_000);
afterAll(() => rm(build, { recursive: true, force: true }));

interface Run {
  pid: number;
  ready: Promise<CliEvent>;
  exited: Promise<{
    code: number | null;
    signal: string | null;
    events: CliEvent[];
    stderr: string;
  }>;
}

/**
 * Runs `mcp-valet <args> --json` under the old Node, in a process group of its own, as a shell
 * runs a job in a terminal (the terminal's Ctrl+C goes to that whole group).
 */
function runUnderOldNode(args: string[], dataDir: string): Run {
  const child = spawn(OLD_NODE, [bin, ...args, '--json'], {
    env: cliEnv({ VALET_DATA_DIR: dataDir, VALET_PORT: '0', PATH: '/usr/bin:/bin' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const events: CliEvent[] = [];
  let stderr = '';
  let onReady: (e: CliEvent) => void = () => {};
  const ready = new Promise<CliEvent>((resolve) => (onReady = resolve));
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const event = JSON.parse(buffered.slice(0, nl)) as CliEvent;
      buffered = buffered.slice(nl + 1);
      events.push(event);
      if (event.event === 'ready') onReady(event);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Awaited<Run['exited']>>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, events, stderr })),
  );
  void exited.then((r) => onReady({ event: 'exited before ready', stderr: r.stderr }));
  return { pid: child.pid!, ready, exited };
}

/** What a clean stop looks like: one stop, reported once, exit 0, and no endpoint.json left. */
async function expectCleanStop(run: Run, dataDir: string, signal: string): Promise<void> {
  const result = await run.exited;
  expect(result.stderr.match(/Stopped \(/g) ?? [], result.stderr).toEqual([`Stopped (`]);
  expect(result.events.filter((e) => e.event === 'stopped')).toEqual([
    { event: 'stopped', signal },
  ]);
  expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
  expect(existsSync(join(dataDir, 'endpoint.json'))).toBe(false);
}

describe('mcp-valet under a Node older than 22.12 (re-run under .node/ Node 24)', () => {
  it('stops cleanly, once, on Ctrl+C: SIGINT to the whole process group, five runs in a row', async () => {
    for (let i = 0; i < 5; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'valet-ctrl-c-'));
      const run = runUnderOldNode(['serve'], dataDir);
      expect((await run.ready).event).toBe('ready');
      expect(existsSync(join(dataDir, 'endpoint.json'))).toBe(true);
      process.kill(-run.pid, 'SIGINT');
      await expectCleanStop(run, dataDir, 'SIGINT');
    }
  });

  it('stops cleanly, once, when npx forwards the Ctrl+C it got as well (a second SIGINT to the wrapper)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-ctrl-c-'));
    const run = runUnderOldNode(['serve'], dataDir);
    expect((await run.ready).event).toBe('ready');
    process.kill(-run.pid, 'SIGINT');
    process.kill(run.pid, 'SIGINT');
    await expectCleanStop(run, dataDir, 'SIGINT');
  });

  it('stops cleanly on SIGTERM sent to the wrapper process alone', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-ctrl-c-'));
    const run = runUnderOldNode(['serve'], dataDir);
    expect((await run.ready).event).toBe('ready');
    process.kill(run.pid, 'SIGTERM');
    await expectCleanStop(run, dataDir, 'SIGTERM');
  });

  it('stops the demo cleanly on Ctrl+C to the whole process group', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-ctrl-c-demo-'));
    const run = runUnderOldNode(['demo'], dataDir);
    expect((await run.ready).event).toBe('ready');
    process.kill(-run.pid, 'SIGINT');
    await expectCleanStop(run, dataDir, 'SIGINT');
  });
});
