import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { idpEnv } from '../support/auth.ts';
import { cliEnv, runCli, spawnCli, type CliProcess } from '../support/cli.ts';
import { useIdpAndGraph } from '../support/fixtures.ts';

const fx = useIdpAndGraph();

/** The environment of a run whose data dir is `dataDir` (XDG_CONFIG_HOME set, so nothing real is read). */
async function envFor(extra: Record<string, string | undefined> = {}) {
  const xdg = await mkdtemp(join(tmpdir(), 'valet-ui-cmd-'));
  const dataDir = join(xdg, 'mcp-valet');
  return {
    xdg,
    dataDir,
    env: cliEnv({
      ...idpEnv(fx.idp, dataDir, { VALET_GRAPH_URL: fx.graph.url, VALET_PORT: '0' }),
      XDG_CONFIG_HOME: xdg,
      ...extra,
    }),
  };
}

async function stop(serve: CliProcess): Promise<void> {
  serve.child.kill('SIGTERM');
  await serve.exited;
}

/** Spends a link's one-use secret at the window, as the page does. */
function openLink(link: string): Promise<Response> {
  const url = new URL(link);
  return fetch(`${url.origin}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link: new URLSearchParams(url.hash.slice(1)).get('link') }),
  });
}

const LINK = /^http:\/\/127\.0\.0\.1:\d+\/#link=[\w-]{43}$/;

describe('mcp-valet ui', () => {
  it('prints a new working link to the window of the running `serve --ui`, and that link fails the second time', async () => {
    const { env } = await envFor();
    const serve = spawnCli(['serve', '--ui', '--json'], env);
    try {
      const printed = String((await serve.nextEvent('ready')).ui_url);
      expect(printed).toMatch(LINK);

      const result = await runCli(['ui', '--no-open', '--json'], env);
      expect(result.code).toBe(0);
      expect(result.events).toEqual([
        { event: 'ui_link', url: expect.stringMatching(LINK), expires_at: expect.any(String) },
      ]);
      const link = String(result.events[0]!.url);
      expect(new URL(link).origin).toBe(new URL(printed).origin);
      expect(link).not.toBe(printed);
      expect(result.stderr).toContain(`The window: ${link}`);
      const expires = Date.parse(String(result.events[0]!.expires_at)) - Date.now();
      expect(expires).toBeGreaterThan(9 * 60_000);
      expect(expires).toBeLessThanOrEqual(10 * 60_000);

      const first = await openLink(link);
      expect(first.status).toBe(200);
      const { session } = (await first.json()) as { session: string };
      const status = await fetch(`${new URL(link).origin}/api/getStatus`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
        body: '{}',
      });
      expect(status.status).toBe(200);

      const second = await openLink(link);
      expect(second.status).toBe(401);
      expect(((await second.json()) as { error: { message: string } }).error.message).toBe(
        'This link to MCP Valet was already used (a link opens the window once): run `mcp-valet ui` for a new link',
      );
    } finally {
      await stop(serve);
    }
  });

  it("finds the window of `demo --ui` in the demo's own data dir when VALET_DATA_DIR is not set", async () => {
    const { xdg, env } = await envFor();
    const demoDir = join(xdg, 'mcp-valet', 'demo');
    const serve = spawnCli(['serve', '--ui', '--json'], { ...env, VALET_DATA_DIR: demoDir });
    try {
      await serve.nextEvent('ready');
      const result = await runCli(['ui', '--no-open', '--json'], { ...env, VALET_DATA_DIR: '' });
      expect(result.code).toBe(0);
      expect((await openLink(String(result.events[0]!.url))).status).toBe(200);
    } finally {
      await stop(serve);
    }
  });

  it('fails with exit 1 and names `mcp-valet serve --ui` when no server serves the window', async () => {
    const { env } = await envFor();
    const expected = {
      event: 'error',
      code: 'not_running',
      message: expect.stringContaining(
        'No `mcp-valet serve --ui` is running: start it with `mcp-valet serve --ui`',
      ),
    };
    const none = await runCli(['ui', '--no-open', '--json'], env);
    expect(none.code).toBe(1);
    expect(none.events).toEqual([expected]);
    expect(none.stderr).toContain('mcp-valet: No `mcp-valet serve --ui` is running');

    // A server without --ui has no window to open either.
    const serve = spawnCli(['serve', '--json'], env);
    try {
      await serve.nextEvent('ready');
      const headless = await runCli(['ui', '--no-open', '--json'], env);
      expect(headless.code).toBe(1);
      expect(headless.events).toEqual([expected]);
    } finally {
      await stop(serve);
    }
  });
});
