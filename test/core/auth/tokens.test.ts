import { describe, expect, it } from 'vitest';
import type { AuthService } from '../../../main/core/auth/auth-service.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { BrowserUser, createTestAuth } from '../../support/auth.ts';
import { useIdpAndBrowser } from '../../support/fixtures.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useIdpAndBrowser();

const refreshes = () => fx.idp.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;

async function signedIn(): Promise<{
  auth: AuthService;
  events: Awaited<ReturnType<typeof createTestAuth>>['events'];
}> {
  const { auth, events } = await createTestAuth(fx.idp, {
    openBrowser: new BrowserUser(fx.browser).opener(adele),
  });
  await auth.signIn();
  return { auth, events };
}

describe('silent tokens', () => {
  it('come from the cache without a token request', async () => {
    fx.idp.setAccessTokenTtl(3600);
    const { auth } = await signedIn();
    const before = fx.idp.tokenRequests.length;
    const first = await auth.getToken({ scopes: ['User.Read'] });
    const second = await auth.getToken({ scopes: ['user.read'] });
    expect(first.fromCache).toBe(true);
    expect(second.accessToken).toBe(first.accessToken);
    expect(fx.idp.tokenRequests.length).toBe(before);
    expect(await auth.tokenFreshness()).toEqual([
      expect.objectContaining({ scopes: ['User.Read'], expired: false }),
    ]);
  });

  it('refresh an expired token with exactly one token request for 20 concurrent callers', async () => {
    // MSAL treats a token within 5 minutes of expiry as expired.
    fx.idp.setAccessTokenTtl(120);
    const { auth, events } = await signedIn();
    fx.idp.setAccessTokenTtl(3600);
    const before = refreshes();
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => auth.getToken({ scopes: ['User.Read'] })),
    );
    expect(refreshes() - before).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0]!.fromCache).toBe(false);
    expect(events.filter((e) => e.name === 'token-refreshed')).toHaveLength(1);
    // The refreshed token is now cached: no further request.
    await auth.getToken({ scopes: ['User.Read'] });
    expect(refreshes() - before).toBe(1);
  });

  it('report interaction required, with the command to run, once the refresh token is revoked', async () => {
    fx.idp.setAccessTokenTtl(120);
    const { auth, events } = await signedIn();
    await fx.idp.revokeUser(adele.username);
    const err = await auth.getToken({ scopes: ['User.Read'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'interaction_required',
      message: expect.stringContaining('run `mcp-valet login`'),
    });
    expect(events.find((e) => e.name === 'interaction-required')?.payload).toMatchObject({
      scopes: ['User.Read'],
      account: { username: adele.username },
    });
    fx.idp.setAccessTokenTtl(3600);
  });

  it('ask for consent to a scope never granted, then work once it is (incremental consent)', async () => {
    fx.idp.setAccessTokenTtl(3600);
    const people = new BrowserUser(fx.browser);
    const { auth, events } = await createTestAuth(fx.idp, { openBrowser: people.opener(adele) });
    await auth.signIn();
    const err = await auth.getToken({ scopes: ['Mail.Read'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'consent_required',
      message:
        'Mail.Read has not been consented: run `mcp-valet login --scopes Mail.Read` or approve it in the app',
    });
    expect(events.some((e) => e.name === 'interaction-required')).toBe(true);
    const again = await auth.signIn({ scopes: ['Mail.Read'], loginHint: adele.username });
    expect(again.scopes.map((s) => s.toLowerCase())).toContain('mail.read');
    await expect(auth.getToken({ scopes: ['Mail.Read'] })).resolves.toMatchObject({
      account: { username: adele.username },
    });
    // The first grant still works.
    await expect(auth.getToken({ scopes: ['User.Read'] })).resolves.toBeDefined();
  });

  it('say who to sign in when nobody is', async () => {
    const { auth } = await createTestAuth(fx.idp);
    await expect(auth.getToken({ scopes: ['User.Read'] })).rejects.toMatchObject({
      code: 'no_account',
      message: expect.stringContaining('mcp-valet login'),
    });
  });

  it('stop at once when another process signs the account out', async () => {
    fx.idp.setAccessTokenTtl(3600);
    const server = await createTestAuth(fx.idp, {
      openBrowser: new BrowserUser(fx.browser).opener(adele),
      valetEnv: { VALET_ALLOW_PLAINTEXT_CACHE: '1' },
    });
    await server.auth.signIn();
    // Right after an interactive sign-in, in the same process, with a persisted cache.
    await server.auth.getToken({ scopes: ['User.Read'] });
    await expect(server.auth.getToken({ scopes: ['User.Read'] })).resolves.toBeDefined();
    // A second client on the same data dir, like `mcp-valet logout` run beside the server.
    const cli = await createTestAuth(fx.idp, {
      dataDir: server.dataDir,
      valetEnv: { VALET_ALLOW_PLAINTEXT_CACHE: '1' },
    });
    await cli.auth.signOut();
    await expect(server.auth.getToken({ scopes: ['User.Read'] })).rejects.toMatchObject({
      code: 'no_account',
    });
  });
});
