import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs the MCP Inspector CLI (pinned in package.json) with this Node as an external client of
 * the Streamable HTTP endpoint at `url`, sending `bearer` as its Authorization, and resolves to
 * the JSON it prints. Its environment is this process's, so the run's CA is trusted for https.
 */
export async function inspectorCli(url: string, bearer: string, args: string[]): Promise<unknown> {
  const require = createRequire(import.meta.url);
  const entry = join(
    dirname(require.resolve('@modelcontextprotocol/inspector-cli/package.json')),
    'build',
    'index.js',
  );
  // The CLI finds its own package.json relative to the working directory.
  const { stdout } = await run(
    process.execPath,
    [entry, url, '--transport', 'http', '--header', `Authorization: Bearer ${bearer}`, ...args],
    { timeout: 30_000, cwd: dirname(entry) },
  );
  return JSON.parse(stdout);
}
