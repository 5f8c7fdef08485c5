import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractResourceMetadataUrl,
  registerClient,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startTestRemote,
  tempDir,
  type TestRemote,
  offlineRemoteEnv,
} from '../../../support/remote-server.ts';

describe('a server published under a path of its host (https://host/team) is found as the specs say', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;
  let team: string;

  beforeAll(async () => {
    dir = await tempDir();
    const port = await freePort();
    team = `http://localhost:${port}/team`;
    remote = await startTestRemote(
      {
        VALET_PUBLIC_URL: team,
        VALET_REMOTE_AUTH: 'both',
        ...(await offlineRemoteEnv(dir.dir)),
      },
      { dir: dir.dir, port },
    );
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
  });

  /** The protected resource metadata a client finds from an MCP URL's 401. */
  async function metadataFrom401(mcpUrl: string) {
    const refused = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    const url = extractResourceMetadataUrl(refused);
    expect(url, 'the 401 names its resource metadata').toBeDefined();
    const answered = await fetch(url as URL);
    expect(answered.status, String(url)).toBe(200);
    return (await answered.json()) as { resource: string; authorization_servers: string[] };
  }

  it('valet mode: the 401’s metadata URL answers, and so does the RFC 9728 path-inserted one the SDK tries', async () => {
    expect((await metadataFrom401(`${team}/mcp`)).resource).toBe(`${team}/mcp`);
    const found = await discoverOAuthProtectedResourceMetadata(`${team}/mcp`);
    expect(found).toMatchObject({ resource: `${team}/mcp`, authorization_servers: [team] });
  });

  it('valet mode: the authorization server metadata is at the RFC 8414 path-inserted URL of the issuer', async () => {
    const origin = new URL(team).origin;
    const inserted = await fetch(`${origin}/.well-known/oauth-authorization-server/team`);
    expect(inserted.status).toBe(200);
    const metadata = await discoverAuthorizationServerMetadata(team);
    expect(metadata).toMatchObject({
      issuer: team,
      authorization_endpoint: `${team}/authorize`,
      token_endpoint: `${team}/token`,
      registration_endpoint: `${team}/register`,
      revocation_endpoint: `${team}/revoke`,
    });
    // The SDK client registers at the endpoint the metadata names.
    const registered = await registerClient(team, {
      metadata,
      clientMetadata: {
        client_name: 'Team client',
        redirect_uris: ['http://127.0.0.1:53682/callback'],
        token_endpoint_auth_method: 'none',
      },
    });
    expect(registered.client_id).toMatch(/\S/);
  });

  it('entra mode at /team/entra/mcp: the 401’s metadata URL answers with that resource', async () => {
    const metadata = await metadataFrom401(`${team}/entra/mcp`);
    expect(metadata.resource).toBe(`${team}/entra/mcp`);
  });

  it('answers nothing of another path’s well-known URLs at the host root', async () => {
    const origin = new URL(team).origin;
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server/other',
      '/.well-known/oauth-protected-resource/other/mcp',
    ])
      expect((await fetch(`${origin}${path}`)).status, path).toBe(404);
  });
});
