import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeEndpointInfo } from '../../main/core/endpoint/endpoint-info.ts';
import { commandFor, findInstance } from '../../main/cli/find-instance.ts';

let home: string;
let env: NodeJS.ProcessEnv;
let defaultDir: string;
let demoDir: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'valet-find-'));
  env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
  defaultDir = join(home, '.config', 'mcp-valet');
  demoDir = join(defaultDir, 'demo');
  await mkdir(demoDir, { recursive: true });
});

/** Makes `dir` look served by a live process (this one). */
const serving = (dir: string) => writeEndpointInfo(dir, 'http://127.0.0.1:1/mcp', 'token');

describe('finding the running MCP Valet', () => {
  it('takes the default data dir when nothing runs, and says nothing', async () => {
    expect(await findInstance(env, { platform: 'linux' })).toMatchObject({
      dataDir: defaultDir,
      note: undefined,
    });
  });

  it("takes the demo's data dir when only the demo runs, and says so", async () => {
    await serving(demoDir);
    const found = await findInstance(env, { platform: 'linux' });
    expect(found.dataDir).toBe(demoDir);
    expect(found.env.VALET_DATA_DIR).toBe(demoDir);
    expect(found.note).toContain(`using the running demo (its data directory is ${demoDir}`);
  });

  it('prefers a server on the default data dir to the demo', async () => {
    await serving(demoDir);
    await serving(defaultDir);
    expect((await findInstance(env, { platform: 'linux' })).dataDir).toBe(defaultDir);
  });

  it('takes the default data dir for serve, even when only the demo runs', async () => {
    await serving(demoDir);
    expect(await findInstance(env, { platform: 'linux', toServe: true })).toMatchObject({
      dataDir: defaultDir,
      note: undefined,
    });
  });

  it('takes the data dir VALET_DATA_DIR names, whatever runs elsewhere', async () => {
    await serving(demoDir);
    const named = join(home, 'elsewhere');
    expect(
      await findInstance({ ...env, VALET_DATA_DIR: named }, { platform: 'linux' }),
    ).toMatchObject({
      dataDir: named,
      note: undefined,
    });
  });
});

describe('the commands MCP Valet tells people to run', () => {
  it('name no data dir where the search finds it', async () => {
    await serving(demoDir);
    expect(await commandFor('approvals list', demoDir, env, 'linux')).toBe(
      'mcp-valet approvals list',
    );
    await serving(defaultDir);
    expect(await commandFor('approvals list', defaultDir, env, 'linux')).toBe(
      'mcp-valet approvals list',
    );
  });

  it('name the data dir where the search would not find it (quoted for the shell)', async () => {
    await serving(defaultDir);
    expect(await commandFor('approvals deny 1', demoDir, env, 'linux')).toBe(
      `VALET_DATA_DIR=${demoDir} mcp-valet approvals deny 1`,
    );
    expect(await commandFor('ui', "/tmp/it's here", env, 'linux')).toBe(
      `VALET_DATA_DIR='/tmp/it'\\''s here' mcp-valet ui`,
    );
  });

  it('go through npx when this command was started through npx', async () => {
    expect(await commandFor('audit', defaultDir, { ...env, npm_command: 'exec' }, 'linux')).toBe(
      'npx mcp-valet audit',
    );
  });
});
