import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
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
    expect(config.files).toEqual([
      'dist/**/*',
      '!dist/**/*.map',
      '!dist/main/demo{,/**/*}',
      '!dist/main/cli/commands/demo-run.js',
      'package.json',
    ]);
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

/** What the installer would hold: app files and node_modules files, relative to the app's root. */
interface PackedFiles {
  app: string[];
  modules: string[];
}

/**
 * The installer's file list, computed by electron-builder's own code without downloading
 * Electron: its `files` matchers (with its default exclusions) walked over the checkout, and
 * its production dependency collector (`npm ls --omit=dev`, hoisted as it packs them).
 */
async function packedFiles(): Promise<PackedFiles> {
  type FileSet = { files: string[]; metadata: Map<string, { isDirectory(): boolean }> };
  const { getMainFileMatchers, getNodeModuleFileMatcher } =
    require('app-builder-lib/out/fileMatcher.js') as {
      getMainFileMatchers(...args: unknown[]): unknown[];
      getNodeModuleFileMatcher(...args: unknown[]): unknown;
    };
  const { computeFileSets, computeNodeModuleFileSets } =
    require('app-builder-lib/out/util/appFileCopier.js') as {
      computeFileSets(...args: unknown[]): Promise<FileSet[]>;
      computeNodeModuleFileSets(...args: unknown[]): Promise<FileSet[]>;
    };
  const { TmpDir, DebugLogger } = require('builder-util') as {
    TmpDir: new (name: string) => { cleanup(): Promise<void> };
    DebugLogger: new (on: boolean) => unknown;
  };
  const metadata = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
  const tempDirManager = new TmpDir('packed-files');
  // The part of electron-builder's packager that file matching and module collection read.
  const info = {
    appDir: root,
    projectDir: root,
    buildResourcesDir: config.directories.buildResources,
    config,
    isPrepackedAppAsar: false,
    areNodeModulesHandledExternally: false,
    debugLogger: new DebugLogger(false),
    tempDirManager,
    getWorkspaceRoot: () => Promise.resolve(undefined),
    getPackageManager: () => Promise.resolve('npm'),
    originalMetadata: metadata,
    nodePackageName: metadata.name,
    appInfo: { type: 'module' },
  };
  const platformPackager = { info, config, platform: { name: 'linux' } };
  const same = (pattern: string) => pattern;
  const appDir = '/packed-app';
  try {
    const matchers = getMainFileMatchers(
      root,
      appDir,
      same,
      config.linux,
      platformPackager,
      join(root, config.directories.output),
      false,
    );
    const app = await computeFileSets(matchers, null, platformPackager, false);
    const modules = await computeNodeModuleFileSets(
      platformPackager,
      getNodeModuleFileMatcher(root, appDir, same, config.linux, info),
    );
    const files = (sets: FileSet[]) =>
      sets.flatMap((set) =>
        set.files.filter((f) => !set.metadata.get(f)?.isDirectory()).map((f) => relative(root, f)),
      );
    return { app: files(app), modules: files(modules) };
  } finally {
    await tempDirManager.cleanup();
  }
}

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`). */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** The top-level package names among packed node_modules files. */
function packedPackages(modules: string[]): Set<string> {
  return new Set(
    modules.map((f) => packageOf(f.slice('node_modules/'.length).split('/node_modules/')[0]!)),
  );
}

describe('the desktop installer leaves the demo out', () => {
  let packed: PackedFiles;
  beforeAll(async () => {
    packed = await packedFiles();
  });

  it('packs the app’s build output, but no file of main/demo nor the CLI’s demo runner', () => {
    expect(packed.app).toContain('dist/main/electron/index.js');
    expect(packed.app).toContain('dist/main/cli/bin.js');
    expect(packed.app).toContain('dist/main/core/app/valet-core.js');
    expect(existsSync(join(dist, 'main', 'demo', 'demo-environment.js')), 'built demo').toBe(true);
    expect(packed.app.filter((f) => /(^|\/)demo(\/|-run\.js$)/.test(f))).toEqual([]);
  });

  it('packs none of the packages only the demo uses (its IdP, certificates and their dependencies)', () => {
    const packages = packedPackages(packed.modules);
    expect(packages).toContain('@azure/msal-node');
    expect(packages).toContain('@modelcontextprotocol/sdk');
    for (const demoOnly of [
      'oidc-provider',
      'koa',
      '@peculiar/x509',
      'reflect-metadata',
      'tsyringe',
    ])
      expect(packages.has(demoOnly), demoOnly).toBe(false);
  });

  it('packs every file and package the packed main process imports, but the demo runner', () => {
    const app = new Set(packed.app);
    const packages = packedPackages(packed.modules);
    const missing: string[] = [];
    for (const file of packed.app.filter((f) => /^dist\/main\/.*\.js$/.test(f))) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
        if (spec.startsWith('node:') || spec === 'electron') continue;
        if (!spec.startsWith('.')) {
          if (!packages.has(packageOf(spec))) missing.push(`${file} → ${spec}`);
          continue;
        }
        // The demo command loads its runner lazily and explains when it is not there.
        if (file === 'dist/main/cli/commands/demo-command.js' && spec === './demo-run.js') continue;
        if (!app.has(relative(root, resolve(dirname(join(root, file)), spec))))
          missing.push(`${file} → ${spec}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the packed CLI’s demo command says the demo is not in this installation and how to run it', async () => {
    const appRoot = await mkdtemp(join(tmpdir(), 'valet-packed-'));
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-packed-data-'));
    try {
      for (const file of packed.app) {
        await mkdir(dirname(join(appRoot, file)), { recursive: true });
        await copyFile(join(root, file), join(appRoot, file));
      }
      await symlink(join(root, 'node_modules'), join(appRoot, 'node_modules'), 'dir');
      const cli = spawnCli(
        ['demo', '--json'],
        cliEnv({ VALET_DATA_DIR: dataDir }),
        join(appRoot, 'dist', 'main', 'cli', 'bin.js'),
      );
      // Fails fast if the demo starts after all.
      const started = await cli.nextEvent('demo').then(
        () => true,
        () => false,
      );
      if (started) cli.child.kill('SIGTERM');
      const result = await cli.exited;
      expect(result.events).toEqual([
        {
          event: 'error',
          code: 'demo_unavailable',
          message: expect.stringMatching(
            /not part of this installation.*\.ci\/setup.*npx mcp-valet demo/s,
          ),
        },
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await rm(appRoot, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
