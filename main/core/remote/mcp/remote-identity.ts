import { createHash } from 'node:crypto';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { AuditEvent } from '../../audit/audit-types.ts';
import type { Caller } from '../../mcp/call-types.ts';
import type { Policy } from '../../policy/policy-schema.ts';
import { ValetError } from '../../util/valet-error.ts';
import { entraExtra, entraPrincipal, type Principal } from '../entra/principal.ts';
import type { ValetTokenExtra } from '../oauth/valet-tokens.ts';

/**
 * Who a remote call comes from, as the runner, the audit log and the approval page name them:
 * the principal (user, tools, read-only), the key it comes with and the client that sent it.
 */
export interface RemoteIdentity {
  principal: Principal;
  /** The user's sign-in name; the object ID when the token names none. */
  username: string;
  name: string | undefined;
  /** The valet key (valet mode), or the user's grant to one Entra client app (entra mode). */
  key: { id: string; name: string };
  /** The MCP client: its registered name and its client ID. */
  client: { name: string; id: string };
}

/**
 * The identity of a valet-mode token: everything comes from the key the token acts as, which
 * the token check has just read. The client is named as it registered (the key keeps that name
 * from the consent), or by its client ID when it gave none.
 */
export function valetIdentity(auth: AuthInfo): RemoteIdentity {
  const extra = auth.extra as Partial<ValetTokenExtra> | undefined;
  if (typeof extra?.keyId !== 'string' || typeof extra.oid !== 'string')
    throw new ValetError(
      'not_valet_token',
      'This request was not authorized by a valet-mode access token, so it names no valet key',
    );
  const principal: Principal = {
    oid: extra.oid,
    tid: extra.tid ?? '',
    homeAccountId: extra.homeAccountId ?? '',
    clientId: auth.clientId,
    keyId: extra.keyId,
    tools: [...(extra.tools ?? [])],
    readOnly: extra.readOnly === true,
    // Read at call time from the user's ID token in the token cache (see RemoteAccount).
    roles: [],
  };
  const clientName = extra.keyName || auth.clientId;
  return {
    principal,
    username: extra.username || extra.oid,
    name: undefined,
    key: { id: extra.keyId, name: clientName },
    client: { name: clientName, id: auth.clientId },
  };
}

/**
 * The identity of an entra-mode token. There is no valet key: the grant is the user's to one
 * client app, so that pair stands in for the key (its rate limits, its approval windows), under
 * an ID that names neither.
 */
export function entraIdentity(auth: AuthInfo, policy: Policy): RemoteIdentity {
  const extra = entraExtra(auth);
  const principal = entraPrincipal(auth, policy);
  const id = `e${createHash('sha256').update(`${extra.oid}\n${extra.azp}`).digest('hex').slice(0, 11)}`;
  return {
    principal,
    username: extra.username || extra.oid,
    name: extra.name,
    key: { id, name: `Entra app ${extra.azp}` },
    // Entra names no client app to a resource server: the app ID stands in for its name.
    client: { name: `Entra app ${extra.azp}`, id: extra.azp },
  };
}

/** The runner's caller for an identity: the key it acts as, limited to the principal's tools. */
export function remoteCaller(identity: RemoteIdentity): Caller {
  const { principal, key } = identity;
  return {
    key: {
      id: key.id,
      name: key.name,
      tools: principal.tools,
      readOnly: principal.readOnly,
      account: principal.homeAccountId
        ? { homeAccountId: principal.homeAccountId, username: identity.username }
        : null,
      createdAt: '',
    },
    // A stateless call never sees the client's initialize, so no version: the name it
    // registered, with its client ID in the audit records (see remoteAuditActor).
    client: { name: identity.client.name, version: '' },
  };
}

/**
 * A record of a remote request as its audit log keeps it: its actor names the user by Entra
 * object ID and the client by client ID, besides the key, account and client name.
 */
export function remoteAuditEvent(event: AuditEvent, identity: RemoteIdentity): AuditEvent {
  return {
    ...event,
    actor: { ...event.actor, oid: identity.principal.oid, clientId: identity.client.id },
  };
}
