import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppApi } from '../../../preload/contract.ts';
import { dispatchCall } from '../../../main/core/app/dispatch-call.ts';
import { ApprovalService } from '../../../main/core/approvals/approval-service.ts';
import { handleControl } from '../../../main/core/endpoint/control-api.ts';
import { cliEnv, runCli } from '../../support/cli.ts';
import { sendMailApproval } from '../../support/approval-request.ts';

const TOKEN = 'control-token-of-this-test-run';
const approvals = new ApprovalService();
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    void handleControl(req, res, path, TOKEN, { approvals, audit: async () => undefined });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A pending send_mail, as a client would cause one. */
function pending(): { id: string; outcome: Promise<string> } {
  const outcome = approvals.request(sendMailApproval(), 60_000);
  return { id: approvals.list().at(-1)!.id, outcome };
}

/** What each way in says to `{ kind: 'window', minutes }` on a pending call. */
async function answers(minutes: number) {
  const window = await dispatchCall(
    { decideApproval: async () => undefined } as unknown as AppApi,
    'decideApproval',
    { id: 'a1', decision: { kind: 'window', minutes } },
  );
  const call = pending();
  const control = await fetch(`${origin}/control/approvals/${call.id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'window', minutes }),
  });
  // An accepted window would let the next call through unasked: start over.
  approvals.forgetKey('k1');
  let service: string;
  const direct = pending();
  try {
    approvals.decide(direct.id, { kind: 'window', minutes });
    service = 'accepted';
  } catch (err) {
    service = (err as Error).message;
  }
  for (const c of [call, direct])
    if (approvals.list().some((a) => a.id === c.id)) approvals.decide(c.id, { kind: 'deny' });
  approvals.forgetKey('k1');
  const cli = await runCli(
    ['approvals', 'approve', 'a1', '--minutes', String(minutes), '--json'],
    cliEnv({ VALET_DATA_DIR: await mkdtemp(join(tmpdir(), 'valet-decision-')) }),
  );
  return {
    window: window.ok ? 'accepted' : window.error.message,
    control: control.ok ? 'accepted' : ((await control.json()) as { error: string }).error,
    service,
    cli: cli.events.find((e) => e.event === 'error')?.message,
  };
}

describe('the approve-for-a-while rule', () => {
  it.each([0, 1441, 2.5, -5])(
    'refuses %s minutes in the window, the control API, the approval service and the CLI alike',
    async (minutes) => {
      const said = await answers(minutes);
      const rule = 'is not a whole number of minutes from 1 to 1440';
      expect(said.window).toBe(`decideApproval: decision.minutes: ${rule}`);
      expect(said.control).toBe(`minutes ${rule}`);
      expect(said.service).toBe(`The approval window ${rule}`);
      expect(said.cli).toBe(`--minutes ${minutes} ${rule}`);
    },
  );

  it.each([1, 1440])('takes %s minutes everywhere', async (minutes) => {
    const said = await answers(minutes);
    expect(said.window).toBe('accepted');
    expect(said.control).toBe('accepted');
    expect(said.service).toBe('accepted');
    // The CLI's check passes; it then finds no server to hand the decision to.
    expect(said.cli).toMatch(/^No MCP Valet is running/);
  });
});
