import { join, resolve } from 'node:path';
import { defaultDataDir } from '../core/config/data-dir.ts';
import { readEndpointInfo } from '../core/endpoint/endpoint-info.ts';
import { readDemoSession, type DemoSession } from './demo-session.ts';

/** The MCP Valet a command works with. */
export interface Instance {
  /** Its data dir: keys, audit log, policy, token cache, and endpoint.json when it serves. */
  dataDir: string;
  /** The environment to read the configuration from: the user's, with the demo's settings when the demo runs there. */
  env: NodeJS.ProcessEnv;
  /** The demo running on that data dir, if it is one. */
  demo: DemoSession | undefined;
  /** What to tell the user when the data dir was found rather than named. */
  note: string | undefined;
}

/** The demo's own data dir, inside the default one (unless VALET_DATA_DIR names another). */
export function demoDataDir(env: NodeJS.ProcessEnv, platform = process.platform): string {
  return env.VALET_DATA_DIR?.trim() || join(defaultDataDir(platform, env), 'demo');
}

/** How to look. */
export interface FindOptions {
  platform?: NodeJS.Platform;
  /** The command starts an MCP Valet (`serve`): it takes the data dir named or the default one. */
  toServe?: boolean;
}

/**
 * Finds the MCP Valet a command should work with, the same way for every command: the data
 * dir VALET_DATA_DIR names; else the default one, unless nothing serves there while the demo
 * does (in its own data dir), in which case the demo's. A demo brings its tenant's settings.
 */
export async function findInstance(
  env: NodeJS.ProcessEnv,
  options: FindOptions = {},
): Promise<Instance> {
  const { platform = process.platform, toServe = false } = options;
  const named = env.VALET_DATA_DIR?.trim();
  const home = defaultDataDir(platform, env);
  let dataDir = named ? resolve(named) : home;
  let note: string | undefined;
  if (!named && !toServe && !(await readEndpointInfo(home))) {
    const demoDir = join(home, 'demo');
    if (await readEndpointInfo(demoDir)) {
      dataDir = demoDir;
      note = `mcp-valet: using the running demo (its data directory is ${demoDir}; set VALET_DATA_DIR to use another)`;
    }
  }
  const demo = await readDemoSession(dataDir);
  return {
    dataDir,
    env: dataDir === home && !demo ? env : { ...env, ...demo?.settings, VALET_DATA_DIR: dataDir },
    demo,
    note,
  };
}

/**
 * `mcp-valet <args>` as the user should type it in a shell like the one this process was
 * started from, so that it reaches the MCP Valet on `dataDir`: through npx when this ran
 * through npx, and naming the data dir when finding it would not.
 */
export async function commandFor(
  args: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): Promise<string> {
  const name = env.npm_command === 'exec' ? 'npx mcp-valet' : 'mcp-valet';
  const { VALET_DATA_DIR: _named, ...unnamed } = env;
  const found = await findInstance(unnamed, { platform });
  if (found.dataDir === resolve(dataDir)) return `${name} ${args}`;
  return platform === 'win32'
    ? `$env:VALET_DATA_DIR='${dataDir.replace(/'/g, "''")}'; ${name} ${args}`
    : `VALET_DATA_DIR=${shellQuote(dataDir)} ${name} ${args}`;
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
