import { expect, it } from 'vitest';
import { authStatus } from '../../../../main/core/mcp/tools/auth-status.ts';
import { adele, TOOL_SCOPES, fx, account, ok, useToolFixture } from './tool-fixture.ts';

useToolFixture();

it("auth_status describes the key's account and its granted scopes, never a token", async () => {
  const status = await ok(authStatus, {});
  expect(status).toEqual({
    signedIn: true,
    username: adele.username,
    name: adele.name,
    tenantId: fx.idp.tenantId,
    homeAccountId: account.homeAccountId,
    viaBroker: false,
    grantedScopes: expect.arrayContaining(TOOL_SCOPES),
  });
});
