import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cliEnv, spawnCli } from '../support/cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist');
const require = createRequire(join(root, 'package.json'));

interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asarUnpack: string[];
  extraMetadata?: { main?: string };
  directories: { buildResources: string; output: string };
  win: { target: string };
  mac: {
    target: string;
    hardenedRuntime: boolean;
    entitlements: string;
    entitlementsInherit: string;
  };
  linux: { target: string[] };
  deb: { depends: string[] };
  electronFuses: Record<string, boolean>;
}

const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('packaging (electron-builder.yml)', () => {
  it('passes electron-builder’s own schema', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as {
      DebugLogger: new (on: boolean) => unknown;
    };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration(
        { ...config, electronFuses: { runAsNode: 'off' } },
        new DebugLogger(false),
      ),
    ).rejects.toThrow(/electronFuses/);
  });

  it('names the app and builds nsis, a hardened dmg, AppImage and a deb that needs libsecret', () => {
    expect(config.appId).toBe('com.mcpvalet.desktop');
    expect(config.productName).toBe('MCP Valet');
    expect(config.win.target).toBe('nsis');
    expect(config.mac).toMatchObject({ target: 'dmg', hardenedRuntime: true });
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.deb.depends).toContain('libsecret-1-0');
    for (const plist of [config.mac.entitlements, config.mac.entitlementsInherit]) {
      const text = readFileSync(join(root, plist), 'utf8');
      expect(text).toContain('<key>com.apple.security.cs.allow-jit</key>');
      // Nothing that would weaken the hardened runtime beyond the JIT.
      expect(text).not.toMatch(/disable-library-validation|allow-dyld-environment-variables/);
    }
    const icon = readFileSync(join(root, config.directories.buildResources, 'icon.png'));
    expect(icon.subarray(1, 4).toString()).toBe('PNG');
    expect([icon.readUInt32BE(16), icon.readUInt32BE(20)]).toEqual([512, 512]);
  });

  it('unpacks the native modules from the asar', () => {
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        'node_modules/keytar/**',
        'node_modules/@azure/msal-node-runtime/**',
      ]),
    );
  });

  it('sets the fuses: no RunAsNode, encrypted cookies, ASAR integrity, app only from the asar', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('packs only the build output, and the build output has everything the app loads', () => {
    expect(config.files).toEqual(['dist/**/*', '!dist/**/*.map', 'package.json']);
    const main = config.extraMetadata?.main ?? pkg.main;
    expect(main).toBe(pkg.main);
    for (const needed of [
      main,
      'dist/preload/index.cjs',
      'dist/renderer/index.html',
      'dist/main/cli/bin.js',
    ])
      expect(existsSync(join(root, needed)), needed).toBe(true);
    // Every relative import of the compiled main process resolves inside dist/.
    const missing: string[] = [];
    for (const file of filesUnder(join(dist, 'main')).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = resolve(dirname(file), spec!);
        if (!target.startsWith(dist) || !existsSync(target))
          missing.push(`${relative(root, file)} → ${spec}`);
      }
    }
    expect(missing).toEqual([]);
    // A sandboxed preload can load nothing but electron: it is one self-contained file.
    const preload = readFileSync(join(dist, 'preload', 'index.cjs'), 'utf8');
    expect([...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1])).toEqual([
      'electron',
    ]);
    // The window's scripts are all local files (the CSP allows nothing else).
    const html = readFileSync(join(dist, 'renderer', 'index.html'), 'utf8');
    for (const [, src] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      expect(src, 'a local asset').toMatch(/^\.?\/assets\//);
      expect(existsSync(join(dist, 'renderer', src!)), src).toBe(true);
    }
  });

  it('the built CLI serves the window from dist', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-dist-'));
    const cli = spawnCli(
      ['serve', '--ui', '--json', '--port', '0'],
      cliEnv({ VALET_DATA_DIR: dataDir, VALET_CLIENT_ID: '0b7c4e2a-5d1f-4a8b-b3c6-9e0d1f2a3b4c' }),
      join(dist, 'main', 'cli', 'bin.js'),
    );
    try {
      const ready = await cli.nextEvent('ready');
      const link = new URL(String(ready.ui_url));
      const page = await fetch(new URL('/', link));
      expect(page.status).toBe(200);
      expect(page.headers.get('set-cookie')).toBeNull();
      expect(await page.text()).toContain('<div id="root">');
      // The page trades the link's secret (in the fragment) for its session.
      const session = await fetch(new URL('/api/session', link), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ link: new URLSearchParams(link.hash.slice(1)).get('link') }),
      });
      expect(session.status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
