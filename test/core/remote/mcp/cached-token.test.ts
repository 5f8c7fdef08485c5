import { describe, expect, it } from 'vitest';
import { holdsUsableToken } from '../../../../main/core/remote/mcp/cached-token.ts';

const HOME = '0a1b2c3d.contoso-tenant';
const CLIENT = '8c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f';
const NOW = Date.UTC(2026, 8, 1, 12, 0, 0);
const seconds = (ms: number) => String(Math.floor(ms / 1000));

/** MSAL's serialized cache holding one access token, as its cache plugin stores it. */
function cacheWith(token: Partial<Record<string, string>>): string {
  return JSON.stringify({
    Account: {},
    AccessToken: {
      [`${HOME}-localhost-accesstoken-${CLIENT}-contoso-tenant-user.read`]: {
        home_account_id: HOME,
        environment: 'localhost',
        credential_type: 'AccessToken',
        client_id: CLIENT,
        secret: 'not-a-real-token',
        realm: 'contoso-tenant',
        target: 'User.Read profile openid email',
        cached_at: seconds(NOW - 60_000),
        expires_on: seconds(NOW + 3600_000),
        token_type: 'Bearer',
        ...token,
      },
    },
  });
}

const wanted = { homeAccountId: HOME, clientId: CLIENT, scopes: ['User.Read'] };

describe('holdsUsableToken: whether a silent token comes from the cache or needs the authority', () => {
  it('finds an hour-long token of the account, app and scope, whatever the case of the scope', () => {
    expect(holdsUsableToken(cacheWith({}), wanted, NOW)).toBe(true);
    expect(holdsUsableToken(cacheWith({}), { ...wanted, scopes: ['user.read'] }, NOW)).toBe(true);
  });

  it('needs the authority for a token within MSAL’s five minutes of its expiry, or past its refresh time', () => {
    expect(holdsUsableToken(cacheWith({ expires_on: seconds(NOW + 299_000) }), wanted, NOW)).toBe(
      false,
    );
    expect(holdsUsableToken(cacheWith({ refresh_on: seconds(NOW - 1000) }), wanted, NOW)).toBe(
      false,
    );
    expect(holdsUsableToken(cacheWith({ cached_at: seconds(NOW + 60_000) }), wanted, NOW)).toBe(
      false,
    );
  });

  it('needs the authority for another scope, account or app, and for a cache that does not parse', () => {
    expect(holdsUsableToken(cacheWith({}), { ...wanted, scopes: ['Mail.Read'] }, NOW)).toBe(false);
    expect(holdsUsableToken(cacheWith({ home_account_id: 'someone.else' }), wanted, NOW)).toBe(
      false,
    );
    expect(holdsUsableToken(cacheWith({ client_id: 'another-app' }), wanted, NOW)).toBe(false);
    expect(holdsUsableToken('{not json', wanted, NOW)).toBe(false);
  });
});
