import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { cliEnv, runCli } from '../support/cli.ts';
import { connectClient, useValet } from '../support/valet.ts';
import { sendMailApproval } from '../support/approval-request.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele);

describe('mcp-valet keys revoke against a real running core', () => {
  it('ends the key’s sessions and its approval windows before the command returns', async () => {
    const { key, secret } = await fx.valet.createKey({ name: 'revoked-from-cli' });
    const { client } = await connectClient(fx.valet.endpoint.url, secret);
    expect((await client.callTool({ name: 'auth_status', arguments: {} })).isError).toBeFalsy();
    const sessions = fx.valet.endpoint.sessionCount;
    // An approve-for-N-minutes window of this key, as the user would have granted it.
    const shown = new Promise<{ id: string }>((resolve) =>
      fx.valet.core.approvals.once('approval-requested', resolve),
    );
    const granted = fx.valet.core.approvals.request(sendMailApproval(key, adele.username), 60_000);
    fx.valet.core.approvals.decide((await shown).id, {
      kind: 'window',
      minutes: 30,
    });
    expect(await granted).toBe('approved');

    const revoked = await runCli(
      ['keys', 'revoke', key.id, '--json'],
      cliEnv(idpEnv(fx.idp, fx.valet.dataDir, { VALET_GRAPH_URL: fx.valet.graph.url })),
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    // Nothing of the key is left in the server by the time the command has returned.
    expect(fx.valet.endpoint.sessionCount).toBe(sessions - 1);
    expect(await fx.valet.core.keys.verify(secret)).toEqual({
      rejected: 'revoked',
      keyId: key.id,
    });
    const asked = fx.valet.core.approvals.request(sendMailApproval(key, adele.username), 50);
    expect(await asked).toBe('timed-out');
  });
});
