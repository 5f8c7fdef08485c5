import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The per-user application data directory for MCP Valet on this OS. The desktop app and
 * the CLI use the same one, so they share keys, audit log and token cache.
 */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (platform === 'win32')
    return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'MCP Valet');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'MCP Valet');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'mcp-valet');
}

/**
 * Creates the data directory (owner-only) and proves it is writable by writing and
 * removing a probe file. Returns the error code (EACCES, EROFS, …) when it is not.
 */
export async function checkWritableDir(dir: string): Promise<string | undefined> {
  const probe = join(dir, `.write-probe-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await makeDirs(dir);
    await writeFile(probe, '', { mode: 0o600 });
    await rm(probe, { force: true });
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  }
}

/**
 * Creates a directory and its missing parents one level at a time. Node's recursive mkdir
 * loops forever on some paths (e.g. under /proc), and a bad VALET_DATA_DIR must fail, not hang.
 */
async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const exists = await stat(d).then(
      () => true,
      () => false,
    );
    if (exists) break;
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing)
    await mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
}
