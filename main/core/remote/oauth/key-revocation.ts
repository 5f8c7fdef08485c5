import type { AuditEvent } from '../../audit/audit-types.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError } from '../../util/valet-error.ts';
import type { StoreApprovals } from '../approvals/store-approvals.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { WebSessions } from '../web/web-sessions.ts';
import { RemoteKeys, type RemoteKey } from './remote-keys.ts';

/** What revoking a remote key touches: the store, the approvals and this instance's audit log. */
export interface KeyRevocationDeps {
  keys: RemoteKeys;
  approvals: Pick<StoreApprovals, 'forgetKey'>;
  audit: (event: AuditEvent) => Promise<unknown>;
  logger: Logger;
}

/**
 * Revokes a remote key at once, for every instance sharing the store: the key is marked revoked
 * and its live tokens deleted (every request reads the key, so the next one is refused), its
 * approval windows end, and the revocation is audited with who did it. A record that cannot be
 * written is logged, never undone: the revocation has taken effect.
 */
export async function revokeRemoteKey(
  deps: KeyRevocationDeps,
  key: RemoteKey,
  by: string,
): Promise<void> {
  await deps.keys.revoke(key.id);
  await deps.approvals.forgetKey(key.id);
  try {
    await deps.audit({
      type: 'key_revoked',
      actor: { keyId: key.id, keyName: key.name, account: key.username },
      outcome: 'ok',
      details: { by },
    });
  } catch (err) {
    deps.logger.error(
      `The revocation of key ${key.id} could not be audited: ${describeError(err)}`,
    );
  }
}

/**
 * The keys of one user, or of every user who has signed in (each key's user signed in on the
 * web to consent), newest first within each user.
 */
export async function listRemoteKeys(store: SharedStore, oid?: string): Promise<RemoteKey[]> {
  const keys = new RemoteKeys(store);
  if (oid !== undefined) return keys.list(oid);
  const users = await new WebSessions(store).knownUsers();
  return (await Promise.all(users.map((u) => keys.list(u.oid)))).flat();
}
