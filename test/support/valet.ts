import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ValetCore, type ValetCoreOptions } from '../../main/core/app/valet-core.ts';
import { loadConfig } from '../../main/core/config/load-config.ts';
import type { McpEndpoint } from '../../main/core/endpoint/mcp-endpoint.ts';
import type { ValetKey } from '../../main/core/keys/key-store.ts';
import { TOOL_NAMES, type ToolName } from '../../main/core/mcp/tool-definition.ts';
import { startGraphStandIn, type RunningGraph } from '../../main/demo/graph/index.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';
import { afterAll, beforeAll } from 'vitest';
import { idpEnv } from './auth.ts';
import { startTestIdp } from './idp.ts';

/** Every Graph scope the nine tools need. */
export const ALL_TOOL_SCOPES = [
  'User.Read',
  'Mail.Read',
  'Mail.Send',
  'Calendars.Read',
  'Calendars.ReadWrite',
  'Files.Read',
  'People.Read',
];

/** A running MCP Valet core with its endpoint, signed in at the test IdP, talking to a Graph stand-in. */
export interface RunningValet {
  core: ValetCore;
  endpoint: McpEndpoint;
  graph: RunningGraph;
  dataDir: string;
  createKey(options?: {
    name?: string;
    tools?: ToolName[];
    readOnly?: boolean;
  }): Promise<{ key: ValetKey; secret: string }>;
  close(): Promise<void>;
}

/** A Graph stand-in that trusts the test IdP's tokens and knows its users. */
export function startGraphFor(
  idp: RunningIdp,
  overrides: Partial<Parameters<typeof startGraphStandIn>[0]> = {},
): Promise<RunningGraph> {
  return startGraphStandIn({
    issuer: idp.issuer,
    keys: { jwksUri: idp.jwksUri },
    users: [...idp.users],
    ...overrides,
  });
}

/** Signs `user` in through the real device code grant, approved at the test IdP. */
export async function signInWithDeviceCode(
  core: ValetCore,
  idp: RunningIdp,
  user: IdpUser,
  scopes: string[],
): Promise<void> {
  let approval: Promise<void> = Promise.resolve();
  await core.auth.signIn({
    method: 'device-code',
    scopes,
    onDeviceCode: (p) => (approval = idp.approveDeviceCode(p.userCode, user.username)),
  });
  await approval;
}

/**
 * Starts the real core (config, token cache, MSAL, keys, Graph client, tools, endpoint on a
 * free port) against a test IdP and a Graph stand-in, with `user` signed in.
 */
export async function startValet(
  idp: RunningIdp,
  user: IdpUser,
  options: {
    scopes?: string[];
    valetEnv?: Record<string, string>;
    core?: Partial<ValetCoreOptions>;
    /** Written to config.json before the core starts (policy, for example). */
    configFile?: Record<string, unknown>;
  } = {},
): Promise<RunningValet> {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-endpoint-'));
  if (options.configFile)
    await writeFile(join(dataDir, 'config.json'), JSON.stringify(options.configFile));
  const graph = await startGraphFor(idp);
  const config = await loadConfig(
    idpEnv(idp, dataDir, { VALET_GRAPH_URL: graph.url, VALET_PORT: '0', ...options.valetEnv }),
  );
  const core = await ValetCore.create({
    config,
    env: idpEnv(idp, dataDir, { VALET_GRAPH_URL: graph.url, VALET_PORT: '0', ...options.valetEnv }),
    ...options.core,
  });
  await signInWithDeviceCode(core, idp, user, options.scopes ?? ALL_TOOL_SCOPES);
  const endpoint = await core.startEndpoint();
  let n = 0;
  return {
    core,
    endpoint,
    graph,
    dataDir,
    createKey: (o = {}) =>
      core.createKey({
        name: o.name ?? `client-${++n}`,
        tools: o.tools ?? [...TOOL_NAMES],
        readOnly: o.readOnly ?? false,
        account: null,
      }),
    close: async () => {
      await core.close();
      await graph.close();
    },
  };
}

/** An MCP SDK client connected to the endpoint with a valet key. */
export async function connectClient(
  url: string,
  secret: string,
  name = 'test-client',
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${secret}` } },
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** What useValet gives a test file once its beforeAll has run. */
export interface ValetFixture {
  readonly idp: RunningIdp;
  readonly valet: RunningValet;
  /** The secret of the key named in `key`, when one was asked for. */
  readonly secret: string;
}

/**
 * Registers beforeAll/afterAll hooks that start a test IdP and a signed-in core with its
 * endpoint (see startValet), and optionally create a valet key with every tool.
 */
export function useValet(
  user: IdpUser,
  options: Parameters<typeof startValet>[2] & { key?: string } = {},
): ValetFixture {
  const fixture = { secret: '' } as { idp: RunningIdp; valet: RunningValet; secret: string };
  beforeAll(async () => {
    fixture.idp = await startTestIdp();
    fixture.valet = await startValet(fixture.idp, user, options);
    if (options.key) fixture.secret = (await fixture.valet.createKey({ name: options.key })).secret;
  });
  afterAll(async () => {
    await fixture.valet?.close();
    await fixture.idp?.close();
  });
  return fixture;
}
