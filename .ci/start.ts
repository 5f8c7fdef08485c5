// `npm start`: the desktop app from a checkout. It builds only the parts whose sources changed
// since their last build (never wiping dist/), and says plainly when Electron's runtime is
// missing: Electron downloads it on first run, which needs Internet access.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One part of the build: the npm script that makes it, what it reads and the file it writes last. */
export interface BuildStep {
  script: string;
  inputs: string[];
  output: string;
}

const SHARED_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json'];

/** The build as `npm run build` makes it, part by part (paths from the repository root). */
export const BUILD_STEPS: BuildStep[] = [
  {
    script: 'build:main',
    inputs: ['main', 'preload', ...SHARED_INPUTS],
    output: 'dist/main/electron/index.js',
  },
  {
    script: 'build:preload',
    inputs: ['preload', ...SHARED_INPUTS],
    output: 'dist/preload/index.cjs',
  },
  {
    script: 'build:renderer',
    inputs: ['renderer', 'preload', ...SHARED_INPUTS],
    output: 'dist/renderer/index.html',
  },
];

/** The newest modification time under `path` (a file or a folder), 0 when it does not exist. */
function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    newest = Math.max(newest, newestChange(join(path, entry.name)));
  }
  return newest;
}

/** The steps whose output is missing or older than one of their inputs. */
export function staleSteps(root: string, steps: BuildStep[] = BUILD_STEPS): BuildStep[] {
  return steps.filter((step) => {
    const output = join(root, step.output);
    if (!existsSync(output)) return true;
    const built = statSync(output).mtimeMs;
    return step.inputs.some((input) => newestChange(join(root, input)) > built);
  });
}

/**
 * Marks a step's output as built now, so the next start finds it fresh. File times have finer
 * grain than the clock's milliseconds: an input changed within the same millisecond as the
 * build ended would look newer, so the mark is never earlier than the newest input.
 */
export function markBuilt(root: string, step: BuildStep): void {
  const newest = Math.max(...step.inputs.map((input) => newestChange(join(root, input))));
  const ms = Math.max(Date.now(), Math.ceil(newest) + 1);
  utimesSync(join(root, step.output), ms / 1000, ms / 1000);
}

/** Why the desktop app cannot start here, for a person. */
export class LaunchError extends Error {}

/**
 * The path of Electron's executable, downloading it first when it is missing (as Electron does
 * on its first run). `download` runs Electron's own installer and says whether it succeeded.
 */
export function electronExecutable(
  electronDir: string,
  env: NodeJS.ProcessEnv,
  download: () => boolean,
): string {
  // Where Electron's own launcher looks: path.txt names the executable, under dist/ or under
  // ELECTRON_OVERRIDE_DIST_PATH.
  const installed = () => {
    const pathFile = join(electronDir, 'path.txt');
    const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8') : undefined;
    const override = env.ELECTRON_OVERRIDE_DIST_PATH;
    const executable = override
      ? join(override, name ?? 'electron')
      : name && join(electronDir, 'dist', name);
    return executable && existsSync(executable) ? executable : undefined;
  };
  const found = installed();
  if (found) return found;
  const cannot =
    'The desktop window needs Electron’s runtime (about 100 MB), which Electron downloads from the internet on its first run';
  const meanwhile =
    'Meanwhile the same app runs in your browser: npx mcp-valet serve --ui (or npx mcp-valet demo --ui).';
  if (env.ELECTRON_SKIP_BINARY_DOWNLOAD)
    throw new LaunchError(
      `${cannot}; ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it was not tried. Unset it and run npm start again with Internet access. ${meanwhile}`,
    );
  process.stderr.write(`mcp-valet: ${cannot}; downloading it now (once)…\n`);
  const executable = download() ? installed() : undefined;
  if (executable) return executable;
  throw new LaunchError(
    `${cannot}, and the download failed: this machine could not reach Electron’s download host. Run npm start again with Internet access (behind a proxy or mirror, set ELECTRON_MIRROR). ${meanwhile}`,
  );
}

function npmRun(root: string, script: string): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new LaunchError(`npm run ${script} failed; see above.`);
}

function start(root: string): void {
  const electronDir = dirname(
    createRequire(join(root, 'package.json')).resolve('electron/package.json'),
  );
  const electron = electronExecutable(electronDir, process.env, () => {
    const installer = join(electronDir, 'install.js');
    return spawnSync(process.execPath, [installer], { stdio: 'inherit' }).status === 0;
  });
  for (const step of staleSteps(root)) {
    process.stderr.write(`mcp-valet: building ${step.script.replace('build:', '')}…\n`);
    try {
      npmRun(root, step.script);
    } catch (err) {
      // What a failed build wrote must not pass for fresh at the next start.
      if (existsSync(join(root, step.output))) utimesSync(join(root, step.output), 0, 0);
      throw err;
    }
    markBuilt(root, step);
  }
  const child = spawn(electron, ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (import.meta.main) {
  try {
    start(fileURLToPath(new URL('..', import.meta.url)));
  } catch (err) {
    if (!(err instanceof LaunchError)) throw err;
    process.stderr.write(`mcp-valet: ${err.message}\n`);
    process.exit(1);
  }
}
