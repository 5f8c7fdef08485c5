import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const SESSIONS = 50;
const CALLS = 20;
const fx = useValet(adele, {});

describe('load', () => {
  it(`${SESSIONS} sessions at once × ${CALLS} calls each: all correct, none leaked`, async () => {
    // One key per client, as each client has its own; each stays well inside its rate limit.
    const keys: Array<{ secret: string }> = [];
    for (let i = 0; i < SESSIONS; i++) keys.push(await fx.valet.createKey({ name: `load-${i}` }));
    const errors: string[] = [];
    let correct = 0;
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, s) => {
        const { client, transport } = await connectClient(
          fx.valet.endpoint.url,
          keys[s % keys.length]!.secret,
          `load-${s}`,
        );
        for (let c = 0; c < CALLS; c++) {
          const tool = c % 2 === 0 ? 'get_user_details' : 'auth_status';
          const result = await client.callTool({ name: tool, arguments: {} });
          const data = result.structuredContent as Record<string, unknown> | undefined;
          if (result.isError) errors.push(JSON.stringify(result.content));
          else if (
            (tool === 'get_user_details' ? data?.userPrincipalName : data?.username) ===
            adele.username
          )
            correct++;
        }
        await transport.terminateSession();
        await client.close();
      }),
    );
    expect(errors).toEqual([]);
    expect(correct).toBe(SESSIONS * CALLS);
    expect(fx.valet.endpoint.sessionCount).toBe(0);
  }, 120_000);
});
