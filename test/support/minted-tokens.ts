import type { ToolName } from '../../main/core/mcp/tool-definition.ts';
import { RemoteKeys, type RemoteKey } from '../../main/core/remote/oauth/remote-keys.ts';
import type { ValetScope } from '../../main/core/remote/oauth/scopes.ts';
import { ValetTokens } from '../../main/core/remote/oauth/valet-tokens.ts';
import type { SharedStore } from '../../main/core/remote/store/shared-store.ts';
import { silentLogger } from '../../main/core/util/logger.ts';

/** A user of the directory as a remote key names them. */
export interface KeyUser {
  oid: string;
  tid: string;
  homeAccountId: string;
  username: string;
}

/** A made-up user of the tenant `11111111-…`, with the object ID given (`…00d0`, say). */
export function keyUser(oidTail: string, username: string): KeyUser {
  const tid = '11111111-1111-1111-1111-111111111111';
  const oid = `00000000-0000-0000-0000-${oidTail.padStart(12, '0')}`;
  return { oid, tid, homeAccountId: `${oid}.${tid}`, username };
}

/** What the key of mintValetToken is for. */
export interface MintOptions {
  /** The key's client's name (`Test client` unless given). */
  name?: string;
  clientId?: string;
  tools?: ToolName[];
  readOnly?: boolean;
  scopes?: ValetScope[];
}

const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

/**
 * A valet key of `user` and a token family of it, written straight into `store` as a consent
 * and a code exchange would write them, for the server whose public URL is `publicUrl`.
 */
export async function mintValetToken(
  store: SharedStore,
  publicUrl: string,
  user: KeyUser,
  options: MintOptions = {},
): Promise<{ key: RemoteKey; token: string; refresh: string }> {
  const clientId = options.clientId ?? 'offline-client';
  const keys = new RemoteKeys(store);
  const tokens = new ValetTokens({
    store,
    keys,
    logger: silentLogger,
    tokenTtlSeconds: 3600,
    refreshTtlSeconds: 7200,
  });
  const key = await keys.create({
    ...user,
    name: options.name ?? 'Test client',
    clientId,
    tools: options.tools ?? ['get_user_details'],
    readOnly: options.readOnly ?? true,
  });
  const code = await tokens.mintCode({
    clientId,
    redirectUri: REDIRECT_URI,
    codeChallenge: 'unused-here',
    resource: `${publicUrl}/mcp`,
    keyId: key.id,
    scopes: options.scopes ?? ['valet.read'],
  });
  const minted = await tokens.exchangeCode(clientId, code, REDIRECT_URI);
  return { key, token: minted.access_token, refresh: minted.refresh_token ?? '' };
}
