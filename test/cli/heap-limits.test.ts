import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI_ENTRY, cliEnv } from '../support/cli.ts';

const PROBE = fileURLToPath(new URL('./heap-probe.ts', import.meta.url));

/** Runs `mcp-valet --help` with the probe preloaded and returns what the probe saw. */
async function probeCli(): Promise<{ flags: string[]; youngKb: number }> {
  const child = spawn(process.execPath, ['--import', PROBE, CLI_ENTRY, '--help'], {
    env: cliEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect(code).toBe(0);
  const line = stderr.split('\n').find((l) => l.startsWith('heap-probe '));
  expect(line, stderr).toBeDefined();
  return JSON.parse(line!.slice('heap-probe '.length)) as { flags: string[]; youngKb: number };
}

describe('the CLI process', () => {
  it('sets V8 to keep its young generation at its starting size and grow the old one by 30%', async () => {
    const seen = await probeCli();
    expect(seen.flags).toEqual(['--semi-space-growth-factor=1', '--heap-growing-percent=30']);
    // With V8's defaults, two million short-lived objects grow the young generation to 32 MB.
    expect(seen.youngKb).toBeLessThanOrEqual(4096);
  });
});
