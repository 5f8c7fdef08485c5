import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BUILD_STEPS,
  electronExecutable,
  LaunchError,
  markBuilt,
  staleSteps,
} from '../../.ci/start.ts';

const START = fileURLToPath(new URL('../../.ci/start.ts', import.meta.url));

/** Writes a file (and its folders) with a given modification time, in seconds since 1970. */
function put(root: string, path: string, mtime: number): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, path);
  utimesSync(file, mtime, mtime);
}

/** A checkout whose sources were all written at t=1000 and built at t=2000. */
async function builtCheckout(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'valet-start-'));
  for (const source of [
    'main/core/app/valet-core.ts',
    'main/electron/index.ts',
    'preload/contract.ts',
    'preload/index.ts',
    'renderer/src/app.tsx',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
  ])
    put(root, source, 1000);
  // Folders change when a file is added or removed: these were last changed with the sources.
  for (const dir of readdirSync(root, { recursive: true, withFileTypes: true }))
    if (dir.isDirectory()) utimesSync(join(dir.parentPath, dir.name), 1000, 1000);
  for (const step of BUILD_STEPS) put(root, step.output, 2000);
  return root;
}

const scripts = (steps: { script: string }[]) => steps.map((s) => s.script);

describe('npm start builds only what changed', () => {
  it('builds nothing when every output is newer than its sources', async () => {
    expect(staleSteps(await builtCheckout())).toEqual([]);
  });

  it('builds everything on a fresh checkout (no dist/)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'valet-start-'));
    put(root, 'main/electron/index.ts', 1000);
    expect(scripts(staleSteps(root))).toEqual(['build:main', 'build:preload', 'build:renderer']);
  });

  it('rebuilds only the renderer after a renderer edit, then nothing once marked built', async () => {
    const root = await builtCheckout();
    put(root, 'renderer/src/views/status-view.tsx', 3000);
    const stale = staleSteps(root);
    expect(scripts(stale)).toEqual(['build:renderer']);
    for (const step of stale) markBuilt(root, step);
    expect(staleSteps(root)).toEqual([]);
  });

  it('rebuilds main after a source file is deleted', async () => {
    const root = await builtCheckout();
    rmSync(join(root, 'main/core/app/valet-core.ts'));
    expect(scripts(staleSteps(root))).toEqual(['build:main']);
  });

  it('rebuilds main (and only main) after an edit deep in main/core', async () => {
    const root = await builtCheckout();
    put(root, 'main/core/mcp/tools/list-events.ts', 3000);
    expect(scripts(staleSteps(root))).toEqual(['build:main']);
  });

  it('rebuilds all three after a contract or dependency change', async () => {
    for (const changed of ['preload/contract.ts', 'package-lock.json']) {
      const root = await builtCheckout();
      put(root, changed, 3000);
      expect(scripts(staleSteps(root)), changed).toEqual([
        'build:main',
        'build:preload',
        'build:renderer',
      ]);
    }
  });
});

/** A stand-in for node_modules/electron: `path.txt` names the executable under dist/. */
async function electronPackage(installed: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'valet-electron-'));
  if (installed) install(dir);
  return dir;
}

function install(dir: string): void {
  put(dir, 'dist/electron', 1000);
  chmodSync(join(dir, 'dist', 'electron'), 0o755);
  writeFileSync(join(dir, 'path.txt'), 'electron');
}

describe('npm start says plainly when Electron’s runtime is missing', () => {
  it('uses the installed runtime without downloading', async () => {
    const dir = await electronPackage(true);
    let downloads = 0;
    expect(electronExecutable(dir, {}, () => (downloads++, false))).toBe(
      join(dir, 'dist', 'electron'),
    );
    expect(downloads).toBe(0);
  });

  it('downloads a missing runtime once, as Electron does on first run', async () => {
    const dir = await electronPackage(false);
    let downloads = 0;
    const download = () => (downloads++, install(dir), true);
    expect(electronExecutable(dir, {}, download)).toBe(join(dir, 'dist', 'electron'));
    expect(downloads).toBe(1);
  });

  it('a failed download says the first run needs Internet access, and what runs meanwhile', async () => {
    const dir = await electronPackage(false);
    expect(() => electronExecutable(dir, {}, () => false)).toThrow(LaunchError);
    expect(() => electronExecutable(dir, {}, () => false)).toThrow(
      /downloads from the internet on its first run.*download failed.*npm start again with Internet access.*npx mcp-valet serve --ui/s,
    );
  });

  it('npm start stops at once with that message, before building anything', async () => {
    // Electron's own switches: its runtime looked for in an empty folder, and no download tried,
    // so this never starts Electron or reaches for the network, whatever this machine has.
    const env = {
      ...process.env,
      ELECTRON_OVERRIDE_DIST_PATH: await mkdtemp(join(tmpdir(), 'valet-no-electron-')),
      ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
    };
    const result = spawnSync(process.execPath, [START], { env, encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /needs Electron’s runtime .* on its first run; ELECTRON_SKIP_BINARY_DOWNLOAD is set.*npx mcp-valet serve --ui/s,
    );
    expect(result.stderr).not.toContain('failed to install correctly');
    expect(result.stderr).not.toContain('building');
  });
});
