import { ALL_TOOLS } from '../core/mcp/tools/index.ts';
import { startGraphStandIn, type RunningGraph } from './graph/index.ts';
import {
  DEMO_CLIENT_ID,
  DEMO_USERS,
  startIdp,
  type CertificateAuthority,
  type RunningIdp,
} from './idp/index.ts';

/** The demo tenant: an Entra-like identity provider and a Graph stand-in, both on loopback. */
export interface DemoEnvironment {
  idp: RunningIdp;
  graph: RunningGraph;
  /** The VALET_* settings that point MCP Valet at them. */
  settings: Record<string, string>;
  close(): Promise<void>;
}

/** The app registration of the remote demo: a web app that also exposes the MCP API. */
export const DEMO_REMOTE_APP_ID = '5e2f8a1c-3b7d-4c9e-a6f0-1d2b3c4e5f6a';

/** VS Code's own client ID, pre-authorized on the API as an admin would (see the README). */
export const VSCODE_CLIENT_ID = 'aebc6443-996d-45c2-90f0-388ff96faa56';

/** What the remote demo's app registration needs: where it runs, and its certificate credential. */
export interface RemoteDemoApp {
  /** The public URL of the remote server; its sign-in comes back to `<url>/auth/callback`. */
  publicUrl: string;
  /** The PEM certificate whose key signs the app's client assertion. */
  certificatePem: string;
}

/**
 * Starts the demo IdP (HTTPS, signed by `ca`) and the Graph stand-in that trusts its tokens.
 * With `remote`, the IdP also knows the remote server's app registration, as an admin would
 * set it up in Entra: a web app with a certificate, Graph permissions an admin consented to,
 * and an API (`Valet.Use`) whose identifier URI is the public `/mcp` URL, with VS Code and the
 * demo's public client pre-authorized.
 */
export async function startDemoEnvironment(
  ca: CertificateAuthority,
  remote?: RemoteDemoApp,
): Promise<DemoEnvironment> {
  const graphScopes = [...new Set(ALL_TOOLS.flatMap((t) => t.scopes))];
  // Polling every second keeps the demo's own device code sign-in quick.
  const idp = await startIdp({
    ca,
    deviceCodeIntervalSeconds: 1,
    ...(remote
      ? {
          confidentialClients: [
            {
              clientId: DEMO_REMOTE_APP_ID,
              name: 'MCP Valet (team server)',
              redirectUris: [`${remote.publicUrl}/auth/callback`],
              certificates: [remote.certificatePem],
              adminConsentedScopes: graphScopes,
            },
          ],
          apis: [
            {
              appId: DEMO_REMOTE_APP_ID,
              name: 'MCP Valet (team server)',
              // The MCP URLs of both sign-in modes, as the README has admins set them.
              identifierUris: [
                `${remote.publicUrl}/mcp`,
                `${remote.publicUrl}/entra/mcp`,
                `api://${DEMO_REMOTE_APP_ID}`,
              ],
              scopes: ['Valet.Use'],
              preAuthorizedClients: [VSCODE_CLIENT_ID, DEMO_CLIENT_ID],
              accessTokenVersion: 2 as const,
            },
          ],
        }
      : {}),
  });
  try {
    const graph = await startGraphStandIn({
      issuer: idp.issuer,
      keys: { jwksUri: idp.jwksUri },
      users: [...idp.users],
    });
    return {
      idp,
      graph,
      settings: {
        VALET_CLIENT_ID: remote ? DEMO_REMOTE_APP_ID : DEMO_CLIENT_ID,
        ...(remote ? { VALET_PUBLIC_URL: remote.publicUrl } : {}),
        VALET_TENANT_ID: idp.tenantId,
        VALET_AUTHORITY: idp.authority,
        VALET_GRAPH_URL: graph.url,
        VALET_BROKER: 'off',
      },
      close: async () => {
        await graph.close();
        await idp.close();
      },
    };
  } catch (err) {
    await idp.close();
    throw err;
  }
}

/** The demo's users, with the passwords the demo prints (they are public by design). */
export const DEMO_ACCOUNTS = DEMO_USERS;
