import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  request,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ValetCore } from '../../main/core/app/valet-core.ts';
import { loadConfig } from '../../main/core/config/load-config.ts';
import { TOOL_NAMES } from '../../main/core/mcp/tool-definition.ts';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { INITIALIZE } from '../core/endpoint/raw-http.ts';
import { idpEnv } from '../support/auth.ts';
import { CLI_ENTRY, cliEnv, runCli, spawnCli } from '../support/cli.ts';
import { ALL_TOOL_SCOPES, signInWithDeviceCode, useValet } from '../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, { key: 'claude' });

/** Things a test started, stopped after it whatever happened. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function shim(env: Record<string, string>): {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
} {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_ENTRY, 'stdio'],
    env: cliEnv(env) as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  cleanups.push(() => client.close());
  return { client, transport, stderr: () => stderr };
}

/** Writes an endpoint.json as a running MCP Valet would (this process is alive, so it counts). */
async function writeRecord(dataDir: string, record: Record<string, unknown>): Promise<void> {
  await writeFile(
    join(dataDir, 'endpoint.json'),
    JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), ...record }),
    { mode: 0o600 },
  );
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Another program on a loopback port: it records everything it receives and answers like
 * an MCP server would, or as `answer` says.
 */
async function startSquatter(
  port = 0,
  answer?: (seen: Seen) => Promise<{ status: number; body: string }>,
): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      void (async () => {
        const reply = answer
          ? await answer(entry)
          : { status: 200, body: JSON.stringify({ proof: randomBytes(32).toString('base64url') }) };
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(reply.body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  cleanups.push(close);
  return { port: (server.address() as AddressInfo).port, seen, close };
}

function expectNoKeyIn(seen: Seen[], secret: string): void {
  // Booleans, so that a failure does not print the key.
  for (const s of seen)
    expect('authorization' in s.headers, `Authorization in ${s.method} ${s.url}`).toBe(false);
  const everything = JSON.stringify(seen);
  expect(everything.includes('mvk_'), 'mvk_ in what the program received').toBe(false);
  expect(everything.includes(secret.slice(-20)), 'the secret in what it received').toBe(false);
}

/**
 * An HTTP proxy in front of the Graph stand-in that can hold the next request for a path,
 * so a test knows a tool call is in flight.
 */
async function startHoldingProxy(target: string): Promise<{
  url: string;
  hold(path: string): { arrived: Promise<void>; release: () => void };
  close: () => Promise<void>;
}> {
  const upstream = new URL(target);
  const holds = new Map<string, { arrive: () => void; released: Promise<void> }>();
  const server = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const held = holds.get(path);
    holds.delete(path);
    held?.arrive();
    void (held?.released ?? Promise.resolve()).then(() => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    hold(path) {
      let arrive = () => {};
      let release = () => {};
      const arrived = new Promise<void>((r) => (arrive = r));
      const released = new Promise<void>((r) => (release = r));
      holds.set(path, { arrive, released });
      return { arrived, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A signed-in MCP Valet in a data dir of its own whose endpoint can be stopped and started
 * again, as when the app or `serve` is restarted (the token cache is a file, so a new core
 * finds the account).
 */
async function restartableValet(): Promise<{
  dataDir: string;
  env: Record<string, string>;
  secret: string;
  graph: Awaited<ReturnType<typeof startHoldingProxy>>;
  url: () => string;
  core: () => ValetCore;
  stop: () => Promise<void>;
  start: (port?: number) => Promise<string>;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-stdio-'));
  const graph = await startHoldingProxy(fx.valet.graph.url);
  const env = idpEnv(fx.idp, dataDir, {
    VALET_GRAPH_URL: graph.url,
    VALET_PORT: '0',
    VALET_ALLOW_PLAINTEXT_CACHE: '1',
  });
  let core: ValetCore | undefined = await ValetCore.create({ config: await loadConfig(env), env });
  await signInWithDeviceCode(core, fx.idp, adele, ALL_TOOL_SCOPES);
  await core.startEndpoint();
  const { secret } = await core.createKey({
    name: 'claude',
    tools: [...TOOL_NAMES],
    readOnly: false,
    account: null,
  });
  cleanups.push(async () => {
    await core?.close();
    await graph.close();
  });
  return {
    dataDir,
    env,
    secret,
    graph,
    url: () => core?.endpoint?.url ?? '',
    core: () => {
      if (!core) throw new Error('the endpoint is stopped');
      return core;
    },
    async stop() {
      const stopping = core;
      core = undefined;
      await stopping?.close();
    },
    async start(port) {
      core = await ValetCore.create({ config: await loadConfig(env), env });
      const endpoint = await core.startEndpoint(port === undefined ? {} : { port });
      return endpoint.url;
    },
  };
}

/**
 * A stdio client that speaks raw JSON-RPC: it sends initialize but never
 * notifications/initialized, so the bridge keeps no event stream for it.
 */
async function rawShim(
  env: Record<string, string>,
): Promise<
  (id: number, method: string, params: Record<string, unknown>) => Promise<JSONRPCMessage>
> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_ENTRY, 'stdio'],
    env: cliEnv(env) as Record<string, string>,
    stderr: 'pipe',
  });
  const answers = new Map<unknown, (m: JSONRPCMessage) => void>();
  transport.onmessage = (m) => {
    if ('id' in m) answers.get(m.id)?.(m);
  };
  cleanups.push(() => transport.close());
  await transport.start();
  const ask = (id: number, method: string, params: Record<string, unknown>) => {
    const answer = new Promise<JSONRPCMessage>((resolve, reject) => {
      answers.set(id, resolve);
      setTimeout(() => reject(new Error(`no answer to ${method} within 20 s`)), 20_000);
    });
    void transport.send({ jsonrpc: '2.0', id, method, params });
    return answer;
  };
  await ask(0, 'initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw-stdio', version: '1' },
  });
  return ask;
}

/** Calls that outlive a restart fail within seconds, not by the test's timeout, if the bridge hangs. */
const soon = { timeout: 20_000 };

const me = (result: unknown) =>
  (result as { structuredContent?: { userPrincipalName?: string } }).structuredContent
    ?.userPrincipalName;

describe('mcp-valet stdio', () => {
  it('bridges a stdio client to the endpoint with the key from VALET_KEY', async () => {
    const { client, transport } = shim({
      VALET_KEY: fx.secret,
      VALET_URL: fx.valet.endpoint.url,
      VALET_DATA_DIR: fx.valet.dataDir,
    });
    await client.connect(transport);
    expect((await client.listTools()).tools).toHaveLength(9);
    const result = await client.callTool({ name: 'get_user_details', arguments: {} });
    expect(result.structuredContent).toMatchObject({ userPrincipalName: adele.username });
  });

  it('finds the running endpoint through the data dir when VALET_URL is not set', async () => {
    const { client, transport } = shim({ VALET_KEY: fx.secret, VALET_DATA_DIR: fx.valet.dataDir });
    await client.connect(transport);
    await expect(client.callTool({ name: 'auth_status', arguments: {} })).resolves.toMatchObject({
      structuredContent: { username: adele.username },
    });
  });

  it('answers the client with a clear error for a rejected key, on stderr too', async () => {
    const { client, transport, stderr } = shim({
      VALET_KEY: `mvk_${'1'.repeat(12)}_${'y'.repeat(43)}`,
      VALET_DATA_DIR: fx.valet.dataDir,
    });
    await expect(client.connect(transport)).rejects.toThrow(
      /MCP Valet refused the valet key in VALET_KEY: Unknown valet key/,
    );
    expect(stderr()).toContain('refused the valet key');
  });

  it('says when MCP Valet is not running: no record in the data dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-stdio-'));
    const { client, transport } = shim({ VALET_KEY: fx.secret, VALET_DATA_DIR: dataDir });
    await expect(client.connect(transport)).rejects.toThrow(
      `MCP Valet is not running (no endpoint.json in ${dataDir}): start the app or \`mcp-valet serve\``,
    );
  });

  it('says when MCP Valet is not running: nothing listens where the record says', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-stdio-'));
    const port = await closedPort();
    await writeRecord(dataDir, {
      url: `http://127.0.0.1:${port}/mcp`,
      controlToken: randomBytes(32).toString('base64url'),
    });
    const { client, transport } = shim({ VALET_KEY: fx.secret, VALET_DATA_DIR: dataDir });
    await expect(client.connect(transport)).rejects.toThrow(
      `MCP Valet is not running at http://127.0.0.1:${port}/mcp: start the app or \`mcp-valet serve\``,
    );
  });

  it('ends its session and exits when the client hangs up, even with a call in flight', async () => {
    const sessionsBefore = fx.valet.endpoint.sessionCount;
    const bridge = spawnCli(
      ['stdio'],
      cliEnv({ VALET_KEY: fx.secret, VALET_DATA_DIR: fx.valet.dataDir }),
    );
    cleanups.push(async () => {
      bridge.child.kill('SIGKILL');
      await bridge.exited;
    });
    const write = (m: object) => bridge.child.stdin.write(`${JSON.stringify(m)}\n`);
    const answered = async (id: number) => {
      for (let i = 0; i < 200 && !bridge.events.some((e) => e.id === id); i++)
        await new Promise((r) => setTimeout(r, 50));
      return bridge.events.find((e) => e.id === id);
    };
    write(INITIALIZE);
    expect(await answered(1)).toMatchObject({ result: { serverInfo: expect.any(Object) } });
    write({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const asked = new Promise<{ id: string }>((resolve) =>
      fx.valet.core.approvals.once('approval-requested', resolve),
    );
    write({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: {
        name: 'send_mail',
        arguments: { to: ['alex@contoso.test'], subject: 'x', body: 'y' },
      },
    });
    const pending = await asked;
    expect(fx.valet.endpoint.sessionCount).toBe(sessionsBefore + 1);

    const started = Date.now();
    bridge.child.stdin.end();
    const exited = await Promise.race([
      bridge.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000)),
    ]);
    expect(exited?.code, 'the bridge did not exit within 5 s of stdin closing').toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fx.valet.endpoint.sessionCount).toBe(sessionsBefore);
    if (fx.valet.core.approvals.list().some((a) => a.id === pending.id))
      fx.valet.core.approvals.decide(pending.id, { kind: 'deny' });
  });

  it('exits 1 with a clear line when VALET_KEY is missing', async () => {
    const result = await runCli(['stdio'], cliEnv({ VALET_DATA_DIR: fx.valet.dataDir }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('VALET_KEY is not set');
  });

  it('refuses a plain-http VALET_URL on another machine instead of sending the key in clear', async () => {
    const result = await runCli(
      ['stdio'],
      cliEnv({ VALET_KEY: fx.secret, VALET_URL: 'http://192.0.2.10:47652/mcp' }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'VALET_URL must be https for a server on another machine (got http://192.0.2.10:47652/mcp)',
    );
    expect(result.stderr).not.toContain(fx.secret);
  });
});

describe('mcp-valet stdio across restarts of the endpoint', () => {
  it('keeps answering tool calls when the endpoint restarts on a new port, then on the same port', async () => {
    const valet = await restartableValet();
    const { client, transport, stderr } = shim({
      VALET_KEY: valet.secret,
      VALET_DATA_DIR: valet.dataDir,
    });
    await client.connect(transport);
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);

    const first = valet.url();
    await valet.stop();
    const second = await valet.start();
    expect(second).not.toBe(first);
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);
    expect((await client.listTools()).tools).toHaveLength(9);

    await valet.stop();
    const third = await valet.start(Number(new URL(second).port));
    expect(third).toBe(second);
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);
    await expect(
      client.callTool({ name: 'auth_status', arguments: {} }, undefined, soon),
    ).resolves.toMatchObject({
      structuredContent: { username: adele.username },
    });
    expect(stderr()).not.toContain('Session not found');
  });

  it('answers calls with a clear error while the endpoint is down, and recovers on the next call', async () => {
    const valet = await restartableValet();
    const { client, transport } = shim({ VALET_KEY: valet.secret, VALET_DATA_DIR: valet.dataDir });
    await client.connect(transport);
    await client.callTool({ name: 'auth_status', arguments: {} }, undefined, soon);

    await valet.stop();
    const down = await client
      .callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)
      .then(
        () => 'answered',
        (err: unknown) => String(err),
      );
    expect(down).toContain('MCP Valet is not running');
    expect(down).toContain('start the app or `mcp-valet serve`');
    expect(down).not.toContain('Session not found');

    await valet.start();
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);
  });

  it('retries a read call that was in flight when the endpoint restarted, and answers it', async () => {
    const valet = await restartableValet();
    const { client, transport } = shim({ VALET_KEY: valet.secret, VALET_DATA_DIR: valet.dataDir });
    await client.connect(transport);
    await client.listTools();

    const held = valet.graph.hold('/v1.0/me');
    const call = client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon);
    await held.arrived;
    await valet.stop();
    held.release();
    await valet.start();
    expect(me(await call)).toBe(adele.username);
  });

  it('tells the client a send_mail in flight during a restart may not have run, instead of sending it again', async () => {
    const valet = await restartableValet();
    const { client, transport } = shim({ VALET_KEY: valet.secret, VALET_DATA_DIR: valet.dataDir });
    await client.connect(transport);
    await client.listTools();
    const before = fx.valet.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail').length;

    const asked = new Promise((resolve) =>
      valet.core().approvals.once('approval-requested', resolve),
    );
    const call = client
      .callTool(
        {
          name: 'send_mail',
          arguments: { to: ['alex@contoso.test'], subject: 'Once', body: 'Only once.' },
        },
        undefined,
        soon,
      )
      .then(
        (r) => JSON.stringify(r),
        (err: unknown) => String(err),
      );
    // Nobody approves: the call waits in the first endpoint when it stops.
    await asked;
    await valet.stop();
    await valet.start();
    const outcome = await call;
    expect(outcome).toContain('MCP Valet stopped while send_mail was in flight');
    expect(outcome).toContain('check `mcp-valet audit`');
    expect(fx.valet.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail').length).toBe(
      before,
    );
    // The bridge is on the new endpoint for what comes next.
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);
  });
});

describe('mcp-valet stdio when the session is lost without a sign', () => {
  it('opens a new session when the endpoint says the old one is not found (404), for a client with no event stream', async () => {
    const valet = await restartableValet();
    const ask = await rawShim({ VALET_KEY: valet.secret, VALET_DATA_DIR: valet.dataDir });
    // With no event stream, the bridge learns of the restart only from the endpoint's answer.
    expect(await ask(2, 'tools/call', { name: 'auth_status', arguments: {} })).toMatchObject({
      result: { structuredContent: { username: adele.username } },
    });
    const port = Number(new URL(valet.url()).port);
    await valet.stop();
    await valet.start(port);
    expect(await ask(3, 'tools/call', { name: 'get_user_details', arguments: {} })).toMatchObject({
      result: { structuredContent: { userPrincipalName: adele.username } },
    });
  });

  it('recovers after the serving process is killed and started again', async () => {
    const valet = await restartableValet();
    await valet.stop();
    const serve = () => {
      const proc = spawnCli(['serve', '--json'], cliEnv(valet.env));
      cleanups.push(async () => {
        proc.child.kill('SIGKILL');
        await proc.exited;
      });
      return proc;
    };
    const first = serve();
    await first.nextEvent('ready');
    const { client, transport } = shim({ VALET_KEY: valet.secret, VALET_DATA_DIR: valet.dataDir });
    await client.connect(transport);
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);

    first.child.kill('SIGKILL');
    await first.exited;
    const second = serve();
    await second.nextEvent('ready');
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);
  });
});

describe('mcp-valet stdio sends the valet key only to a proven MCP Valet', () => {
  it('proves the endpoint again before each message of a client with no event stream: a program that took the port gets no key', async () => {
    const valet = await restartableValet();
    const ask = await rawShim({ VALET_KEY: valet.secret, VALET_DATA_DIR: valet.dataDir });
    expect(await ask(1, 'tools/call', { name: 'auth_status', arguments: {} })).toMatchObject({
      result: { structuredContent: { username: adele.username } },
    });
    const record = await readFile(join(valet.dataDir, 'endpoint.json'), 'utf8');
    const port = Number(new URL(valet.url()).port);
    await valet.stop();
    await writeFile(join(valet.dataDir, 'endpoint.json'), record, { mode: 0o600 });
    const squatter = await startSquatter(port, async () => ({
      status: 404,
      body: JSON.stringify({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Session not found' },
      }),
    }));
    const answer = await ask(2, 'tools/call', { name: 'get_user_details', arguments: {} });
    expect(JSON.stringify(answer)).toContain(
      `Refused to send the valet key to http://127.0.0.1:${port}/mcp`,
    );
    expect(squatter.seen.length).toBeGreaterThan(0);
    expectNoKeyIn(squatter.seen, valet.secret);
  });

  it('sends no key to another program on the port of a stale endpoint.json', async () => {
    const squatter = await startSquatter();
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-stdio-'));
    await writeRecord(dataDir, {
      url: `http://127.0.0.1:${squatter.port}/mcp`,
      controlToken: randomBytes(32).toString('base64url'),
    });
    const { client, transport, stderr } = shim({ VALET_KEY: fx.secret, VALET_DATA_DIR: dataDir });
    await expect(client.connect(transport)).rejects.toThrow(
      `Refused to send the valet key to http://127.0.0.1:${squatter.port}/mcp: it did not prove it is your MCP Valet`,
    );
    expect(squatter.seen.length).toBeGreaterThan(0);
    expectNoKeyIn(squatter.seen, fx.secret);
    expect(stderr()).not.toContain(fx.secret);
  });

  it('sends no key when endpoint.json has no control token to check the endpoint with', async () => {
    const squatter = await startSquatter();
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-stdio-'));
    await writeRecord(dataDir, { url: `http://127.0.0.1:${squatter.port}/mcp` });
    const { client, transport } = shim({ VALET_KEY: fx.secret, VALET_DATA_DIR: dataDir });
    await expect(client.connect(transport)).rejects.toThrow('Refused to send the valet key');
    expectNoKeyIn(squatter.seen, fx.secret);
  });

  it('sends no key to a program that relays the proof of the real MCP Valet from another port', async () => {
    const real = JSON.parse(await readFile(join(fx.valet.dataDir, 'endpoint.json'), 'utf8')) as {
      controlToken: string;
    };
    const squatter = await startSquatter(0, async (seen) => {
      const answer = await fetch(new URL(seen.url, fx.valet.endpoint.url), {
        method: seen.method,
        headers: { 'content-type': 'application/json' },
        ...(seen.method === 'POST' ? { body: seen.body } : {}),
      });
      return { status: answer.status, body: await answer.text() };
    });
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-stdio-'));
    await writeRecord(dataDir, {
      url: `http://127.0.0.1:${squatter.port}/mcp`,
      controlToken: real.controlToken,
    });
    const { client, transport } = shim({ VALET_KEY: fx.secret, VALET_DATA_DIR: dataDir });
    await expect(client.connect(transport)).rejects.toThrow(
      `Refused to send the valet key to http://127.0.0.1:${squatter.port}/mcp`,
    );
    expect(squatter.seen.length).toBeGreaterThan(0);
    expectNoKeyIn(squatter.seen, fx.secret);
  });

  it('proves the endpoint again after it went away: a program that took its port gets no key', async () => {
    const valet = await restartableValet();
    const { client, transport } = shim({ VALET_KEY: valet.secret, VALET_DATA_DIR: valet.dataDir });
    await client.connect(transport);
    await client.callTool({ name: 'auth_status', arguments: {} }, undefined, soon);

    const record = await readFile(join(valet.dataDir, 'endpoint.json'), 'utf8');
    const port = Number(new URL(valet.url()).port);
    await valet.stop();
    // The old record is back (as if left behind) and another program listens on its port.
    await writeFile(join(valet.dataDir, 'endpoint.json'), record, { mode: 0o600 });
    const squatter = await startSquatter(port, async () => ({
      status: 404,
      body: JSON.stringify({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Session not found' },
      }),
    }));
    const outcome = await client
      .callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)
      .then(
        (r) => JSON.stringify(r),
        (err: unknown) => String(err),
      );
    expect(outcome).toContain(`Refused to send the valet key to http://127.0.0.1:${port}/mcp`);
    expect(squatter.seen.length).toBeGreaterThan(0);
    expectNoKeyIn(squatter.seen, valet.secret);

    await squatter.close();
    await valet.start(port);
    expect(
      me(await client.callTool({ name: 'get_user_details', arguments: {} }, undefined, soon)),
    ).toBe(adele.username);
  });
});
