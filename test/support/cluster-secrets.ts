import { cacheKeyOf } from '../../main/core/remote/cache-keys.ts';
import { open } from '../../main/core/remote/sealed-value.ts';
import { JWT_SHAPE, REMOTE_CLIENT_SECRET } from './remote-server.ts';
import { CLUSTER_CACHE_KEY, type RemoteCluster } from './remote-cluster.ts';
import { dumpRedis, findInDump } from './redis-scan.ts';
import type { TestOAuthClient } from './valet-auth-harness.ts';

/** The secret values of MSAL's serialized cache: access, refresh and ID tokens. */
function cacheSecrets(serialized: string): string[] {
  const cache = JSON.parse(serialized) as Record<string, Record<string, { secret?: string }>>;
  return ['AccessToken', 'RefreshToken', 'IdToken'].flatMap((section) =>
    Object.values(cache[section] ?? {}).flatMap((entry) => (entry.secret ? [entry.secret] : [])),
  );
}

/**
 * Dumps the cluster's Redis byte for byte and returns every secret found in it, by what it is
 * (empty when clean): anything shaped like a JWT (its header and payload), the Entra tokens
 * the sealed token caches hold (opened here with the cluster's cache key, to know what to look
 * for), MSAL's cache layout in the clear, the valet access and refresh tokens `clients` hold,
 * the web app's client secret, the cache key, the users' passwords, and `more` (text the test
 * knows must not be there, such as what an approval summary seals). Throws when the scan could
 * not have found anything: no sealed user token cache with tokens in it, or no hash field read.
 */
export async function secretsInRedis(
  cluster: RemoteCluster,
  clients: readonly TestOAuthClient[],
  more: Record<string, string> = {},
): Promise<Record<string, string>> {
  const dump = await dumpRedis(cluster.redis.url);
  const keys = { current: cacheKeyOf(Buffer.from(CLUSTER_CACHE_KEY, 'base64')) };
  const partitions = [...dump.keys].filter(([name]) => name.startsWith('mv:msal:u:'));
  const entraTokens = partitions.flatMap(([name, { bytes }]) =>
    cacheSecrets(open(bytes.toString('utf8'), keys, name)),
  );
  if (entraTokens.length === 0)
    throw new Error(
      `The scan found no sealed token cache with tokens in it among ${dump.keys.size} keys: it would prove nothing`,
    );
  // A valet key's record (a hash) names its user: the scan read the hashes' fields too.
  const users = cluster.idp.users.map((u) => Buffer.from(u.id));
  const hashesRead = [...dump.keys.values()].some(
    (v) => v.type === 'hash' && users.some((id) => v.bytes.includes(id)),
  );
  if (!hashesRead)
    throw new Error(
      'The scan read no hash naming a user (a valet key record): it would prove nothing',
    );
  const needles: Record<string, string | Buffer | RegExp> = {
    'a JWT (eyJ….eyJ…)': JWT_SHAPE,
    "MSAL's cache layout in the clear": 'credential_type',
    "the web app's client secret": REMOTE_CLIENT_SECRET,
    'the cache key (base64)': CLUSTER_CACHE_KEY,
    'the cache key (bytes)': Buffer.from(CLUSTER_CACHE_KEY, 'base64'),
  };
  entraTokens.forEach((token, i) => (needles[`Entra token ${i + 1} of the sealed caches`] = token));
  clients.forEach((client, i) => {
    const tokens = client.tokens();
    if (tokens?.access_token)
      needles[`valet access token of client ${i + 1}`] = tokens.access_token;
    if (tokens?.refresh_token)
      needles[`valet refresh token of client ${i + 1}`] = tokens.refresh_token;
  });
  for (const user of cluster.idp.users) needles[`${user.username}'s password`] = user.password;
  return findInDump(dump, { ...needles, ...more });
}
