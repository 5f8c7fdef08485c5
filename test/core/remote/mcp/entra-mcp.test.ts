import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGraph } from '../../../../main/demo/graph/index.ts';
import { DEMO_CLIENT_ID, DEMO_USERS, JWT_BEARER_GRANT } from '../../../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../../../main/demo/idp/index.ts';
import { signInByDeviceCode } from '../../../support/entra-api.ts';
import { startTestIdp } from '../../../support/idp.ts';
import { startGraphTap, type GraphTap } from '../../../support/remote-mcp.ts';
import {
  freePort,
  REMOTE_CLIENT_ID,
  REMOTE_CLIENT_SECRET,
  ResponseLog,
  rawRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
} from '../../../support/remote-server.ts';
import { startGraphFor } from '../../../support/valet.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const API_SCOPE = `api://${REMOTE_CLIENT_ID}/Valet.Use`;

describe('Entra mode: a public client brings an Entra token for the API, and tools call Graph on-behalf-of', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let idp: RunningIdp;
  let graph: RunningGraph;
  let tap: GraphTap;
  const remotes: TestRemote[] = [];
  const seen = new ResponseLog();
  let entraOnly: TestRemote;
  let both: TestRemote;
  let adeleToken: string;

  async function startRemote(auth: 'entra' | 'both', port: number): Promise<TestRemote> {
    const remote = await startTestRemote(
      {
        VALET_REMOTE_AUTH: auth,
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_TENANT_ID: idp.tenantId,
        VALET_AUTHORITY: idp.authority,
        VALET_CLIENT_SECRET: REMOTE_CLIENT_SECRET,
        VALET_DATA_DIR: `${dir.dir}/${auth}`,
        VALET_GRAPH_URL: tap.url,
      },
      { dir: dir.dir, https: true, port },
    );
    remotes.push(remote);
    return remote;
  }

  /** Calls `tool` through the SDK client at `url` with `token`, in a connection of its own. */
  async function callTool(url: string, token: string, tool: string): Promise<CallToolResult> {
    const mcp = new Client({ name: 'entra-e2e', version: '1.0.0' });
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const copy = response.clone();
      const headers = Object.fromEntries(copy.headers);
      void copy.text().then(
        (body) => seen.add({ headers, body }),
        () => undefined,
      );
      return response;
    };
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
        fetch: recording,
      }),
    );
    try {
      return (await mcp.callTool({ name: tool, arguments: {} })) as CallToolResult;
    } finally {
      await mcp.close();
    }
  }

  const oboRequests = () =>
    idp.tokenRequests.filter((r) => r.grantType === JWT_BEARER_GRANT).length;

  beforeAll(async () => {
    dir = await tempDir();
    const [entraPort, bothPort] = [await freePort(), await freePort()];
    idp = await startTestIdp({
      apis: [
        {
          appId: REMOTE_CLIENT_ID,
          identifierUris: [`api://${REMOTE_CLIENT_ID}`],
          scopes: ['Valet.Use'],
          preAuthorizedClients: [DEMO_CLIENT_ID],
        },
      ],
      confidentialClients: [
        {
          clientId: REMOTE_CLIENT_ID,
          name: 'MCP Valet (remote)',
          redirectUris: [
            `https://localhost:${entraPort}/auth/callback`,
            `https://localhost:${bothPort}/auth/callback`,
          ],
          secret: REMOTE_CLIENT_SECRET,
        },
      ],
    });
    // Adele let the server read her profile and mail; Alex never consented to anything.
    await idp.setConsent(adele.username, REMOTE_CLIENT_ID, [
      'openid',
      'profile',
      'User.Read',
      'Mail.Read',
    ]);
    graph = await startGraphFor(idp);
    tap = await startGraphTap(graph);
    entraOnly = await startRemote('entra', entraPort);
    both = await startRemote('both', bothPort);
    adeleToken = (await signInByDeviceCode(idp, DEMO_CLIENT_ID, adele, [API_SCOPE])).accessToken;
  });

  afterAll(async () => {
    for (const remote of remotes) await remote.close();
    await tap?.close();
    await graph?.close();
    await idp?.close();
    await dir?.remove();
  });

  it("publishes protected resource metadata naming Entra's issuer and the API scope for /mcp", async () => {
    const response = await rawRequest(
      `${entraOnly.publicUrl}/.well-known/oauth-protected-resource/mcp`,
    );
    seen.add(response);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      resource: `${entraOnly.publicUrl}/mcp`,
      authorization_servers: [idp.issuer],
      scopes_supported: [`${entraOnly.publicUrl}/mcp/Valet.Use`],
    });
  });

  it("calls get_user_details through /mcp with --auth entra, and Graph sees a token issued to the server, never the caller's", async () => {
    const before = tap.tokens.length;
    const result = await callTool(`${entraOnly.publicUrl}/mcp`, adeleToken, 'get_user_details');
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(JSON.stringify(result.structuredContent)).toContain(adele.username);
    const sent = tap.tokens.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const token of sent) {
      expect(token).not.toBe(adeleToken);
      const claims = decodeJwt(token);
      expect(claims.azp ?? claims.appid).toBe(REMOTE_CLIENT_ID);
      expect(claims.oid).toBe(adele.id);
    }
  });

  it('makes one on-behalf-of request for two calls of the same tool', async () => {
    const before = oboRequests();
    for (let i = 0; i < 2; i++) {
      const result = await callTool(`${entraOnly.publicUrl}/mcp`, adeleToken, 'list_messages');
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    }
    expect(oboRequests() - before).toBe(1);
  });

  it('calls get_user_details through /entra/mcp with --auth both', async () => {
    const result = await callTool(`${both.publicUrl}/entra/mcp`, adeleToken, 'get_user_details');
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(JSON.stringify(result.structuredContent)).toContain(adele.username);
  });

  it('answers a tool error carrying the /auth/grant link when the user never consented to Graph for the server', async () => {
    const token = (await signInByDeviceCode(idp, DEMO_CLIENT_ID, alex, [API_SCOPE])).accessToken;
    const result = await callTool(`${entraOnly.publicUrl}/mcp`, token, 'get_user_details');
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain(
      `${entraOnly.publicUrl}/auth/grant?scopes=User.Read`,
    );
  });

  it('sent no Entra token back to any client', () => {
    expect(seen.size).toBeGreaterThan(5);
    expect(seen.withTokens()).toEqual([]);
  });
});
