import { expect, it } from 'vitest';
import { getUserDetails } from '../../../../main/core/mcp/tools/get-user-details.ts';
import { adele, ok, useToolFixture } from './tool-fixture.ts';

useToolFixture();

it("get_user_details describes the key's account, never a token", async () => {
  const me = await ok(getUserDetails, {});
  expect(me).toMatchObject({
    id: adele.id,
    mail: adele.username,
    displayName: adele.name,
    userPrincipalName: adele.username,
  });
});
