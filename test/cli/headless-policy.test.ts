import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { cliEnv, runCli, spawnCli, type CliProcess } from '../support/cli.ts';
import { useIdpAndGraph } from '../support/fixtures.ts';
import { connectClient } from '../support/valet.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const fx = useIdpAndGraph();

async function setUp(
  user: IdpUser,
  policy: Record<string, unknown>,
): Promise<{ env: NodeJS.ProcessEnv; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-headless-'));
  await writeFile(join(dataDir, 'config.json'), JSON.stringify({ policy }));
  const env = cliEnv(
    idpEnv(fx.idp, dataDir, {
      VALET_GRAPH_URL: fx.graph.url,
      VALET_ALLOW_PLAINTEXT_CACHE: '1',
      VALET_PORT: '0',
    }),
  );
  const login = spawnCli(
    ['login', '--device-code', '--scopes', 'Mail.Send,Mail.Read', '--json'],
    env,
  );
  await fx.idp.approveDeviceCode(
    String((await login.nextEvent('device_code')).user_code),
    user.username,
  );
  expect((await login.exited).code).toBe(0);
  return { env, dataDir };
}

async function pendingId(
  env: NodeJS.ProcessEnv,
): Promise<{ id: string; summary: Array<{ label: string; value: string }> }> {
  for (let i = 0; i < 50; i++) {
    const list = await runCli(['approvals', 'list', '--json'], env);
    const approvals = list.events[0]?.approvals as Array<{
      id: string;
      summary: Array<{ label: string; value: string }>;
    }>;
    if (approvals?.length) return approvals[0]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no approval appeared');
}

const mail = {
  to: ['alex@contoso.test'],
  subject: 'Headless hello',
  body: 'Sent from a terminal.',
};
const sent = () =>
  fx.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail' && r.status === 202).length;

describe('policy, approvals and audit, headless from the CLI', () => {
  let serve: CliProcess | undefined;
  afterAll(() => serve?.child.kill('SIGTERM'));

  it('shows the policy, approves and denies from the terminal, and verifies the audit log', async () => {
    const { env, dataDir } = await setUp(adele, {
      tools: { send_mail: { requireRole: 'Valet.Mail.Send' }, search_people: { enabled: false } },
      approvalTimeoutSeconds: 60,
    });
    const policy = await runCli(['policy', '--json'], env);
    expect(policy.events[0]).toMatchObject({ event: 'policy', approvalTimeoutSeconds: 60 });
    expect(
      (policy.events[0]!.tools as Array<Record<string, unknown>>).find(
        (t) => t.tool === 'send_mail',
      ),
    ).toMatchObject({ approval: true, requireRole: 'Valet.Mail.Send' });
    expect(policy.stderr).toMatch(/search_people\s+read\s+off/);

    const key = await runCli(
      [
        'keys',
        'create',
        '--name',
        'terminal',
        '--tools',
        'send_mail,get_user_details,search_people',
        '--json',
      ],
      env,
    );
    const secret = String(key.events[0]!.secret);
    serve = spawnCli(['serve', '--json'], env);
    const { client } = await connectClient(String((await serve.nextEvent('ready')).url), secret);

    const before = sent();
    const first = client.callTool({ name: 'send_mail', arguments: mail });
    const pending = await pendingId(env);
    expect(pending.summary).toEqual([
      { label: 'To', value: 'alex@contoso.test' },
      { label: 'Subject', value: 'Headless hello' },
      { label: 'Body', value: 'Sent from a terminal.' },
    ]);
    expect(sent()).toBe(before);
    expect((await runCli(['approvals', 'approve', pending.id], env)).code).toBe(0);
    expect((await first).isError).toBeFalsy();
    expect(sent()).toBe(before + 1);

    const second = client.callTool({ name: 'send_mail', arguments: mail });
    const denied = await runCli(['approvals', 'deny', (await pendingId(env)).id, '--json'], env);
    expect(denied.events[0]).toMatchObject({
      event: 'approval_decided',
      decision: { kind: 'deny' },
    });
    expect(JSON.stringify((await second).content)).toContain('The user denied send_mail');
    expect(sent()).toBe(before + 1);

    const turnedOff = await client.callTool({ name: 'search_people', arguments: { query: 'a' } });
    expect(JSON.stringify(turnedOff.content)).toContain('search_people is turned off for everyone');
    // A key made while the server runs is audited through it (it holds the log).
    expect((await runCli(['keys', 'create', '--name', 'later', '--json'], env)).code).toBe(0);

    const audit = await runCli(['audit', '--json'], env);
    const types = audit.events.map((e) => (e.record as { type: string }).type);
    expect(types).toEqual(
      expect.arrayContaining([
        'sign_in',
        'key_created',
        'client_connected',
        'approval_requested',
        'approval_decided',
        'tool_call',
      ]),
    );
    expect(
      audit.events.filter(
        (e) =>
          (e.record as { type: string; details?: { keyName?: string } }).type === 'key_created',
      ),
    ).toHaveLength(2);
    const verified = await runCli(['audit', 'verify', '--json'], env);
    expect(verified.code).toBe(0);
    expect(verified.events[0]).toMatchObject({ event: 'audit_verified', ok: true });

    // An edit, found and named.
    const file = join(dataDir, 'audit', 'audit.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[2] = lines[2]!.replace('"outcome":"ok"', '"outcome":"no"');
    await writeFile(file, lines.join('\n'));
    const tampered = await runCli(['audit', 'verify'], env);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(
      /The audit log was tampered with or damaged: record 3 \(audit\.jsonl line 3\) was edited/,
    );
  });

  it('refuses send_mail to a user without the app role, naming the rule', async () => {
    const { env } = await setUp(alex, { tools: { send_mail: { requireRole: 'Valet.Mail.Send' } } });
    const key = await runCli(
      ['keys', 'create', '--name', 'alex-client', '--tools', 'send_mail', '--json'],
      env,
    );
    const alexServe = spawnCli(['serve', '--json'], env);
    try {
      const { client } = await connectClient(
        String((await alexServe.nextEvent('ready')).url),
        String(key.events[0]!.secret),
      );
      const result = await client.callTool({ name: 'send_mail', arguments: mail });
      expect(JSON.stringify(result.content)).toContain(
        'send_mail requires the app role Valet.Mail.Send, which alex@contoso.test does not have',
      );
    } finally {
      alexServe.child.kill('SIGTERM');
      await alexServe.exited;
    }
  });
});
