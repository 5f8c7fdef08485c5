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

/** Starts the demo IdP (HTTPS, signed by `ca`) and the Graph stand-in that trusts its tokens. */
export async function startDemoEnvironment(ca: CertificateAuthority): Promise<DemoEnvironment> {
  // Polling every second keeps the demo's own device code sign-in quick.
  const idp = await startIdp({ ca, deviceCodeIntervalSeconds: 1 });
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
        VALET_CLIENT_ID: DEMO_CLIENT_ID,
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
