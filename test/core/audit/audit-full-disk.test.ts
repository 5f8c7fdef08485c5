import { execFileSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriteBytes } from '../../../main/core/audit/audit-log.ts';
import { verifyAudit } from '../../../main/core/audit/audit-reader.ts';
import type { AuditRecord } from '../../../main/core/audit/audit-types.ts';
import { DEMO_USERS, type IdpUser, type RunningIdp } from '../../../main/demo/idp/index.ts';
import { startTestIdp } from '../../support/idp.ts';
import { connectClient, startValet, type RunningValet } from '../../support/valet.ts';
import { within } from '../../support/within.ts';
import { auditRecords } from '../../support/audit-records.ts';

const [adele] = DEMO_USERS as [IdpUser];

let idp: RunningIdp;
let valet: RunningValet;
let dataDir: string;
let mounted = false;
/** Where tmpfs cannot be mounted (not root), the audit log's writer fails as a full disk does. */
let diskFull = false;
const failWhenFull: WriteBytes = (fd, data, offset) => {
  if (!diskFull) return writeSync(fd, data, offset);
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
};

beforeAll(async () => {
  idp = await startTestIdp();
  dataDir = await mkdtemp(join(tmpdir(), 'valet-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', dataDir], {
      stdio: 'ignore',
    });
    mounted = true;
  } catch {
    mounted = false;
  }
  valet = await startValet(idp, adele, {
    valetEnv: { VALET_DATA_DIR: dataDir },
    ...(mounted ? {} : { core: { audit: { write: failWhenFull } } }),
  });
});

afterAll(async () => {
  await valet?.close();
  await idp?.close();
  if (mounted) execFileSync('umount', [dataDir]);
  await rm(dataDir, { recursive: true, force: true });
});

const filler = () => join(dataDir, 'filler');

/** Fills the disk of the data dir to the last byte (or makes the injected writer fail). */
async function fillDisk(): Promise<void> {
  if (!mounted) {
    diskFull = true;
    return;
  }
  const handle = await open(filler(), 'w');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (let size = block.length; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        const wrote = await handle.write(block, 0, size).catch(() => undefined);
        if (!wrote || wrote.bytesWritten < size) break;
      }
    }
  } finally {
    await handle.close();
  }
}

async function freeDisk(): Promise<void> {
  diskFull = false;
  await rm(filler(), { force: true });
}

function toolCalls(): Promise<AuditRecord[]> {
  return auditRecords(
    valet.core.audit.dir,
    (r) => r.type === 'tool_call' && r.details?.tool === 'get_user_details',
  );
}

describe('a full disk under the audit log', () => {
  it('fails the call with a clear error and no result, and never returns a result without its record', async () => {
    const { secret } = await valet.createKey({ name: 'disk' });
    const { client } = await connectClient(valet.endpoint.url, secret);
    const call = () => client.callTool({ name: 'get_user_details', arguments: {} });
    expect((await call()).isError).toBeFalsy();

    await fillDisk();
    // A few records may still fit in the last page of the file; every call gets either its
    // result with its record written, or the error and nothing of the result.
    let results = 1;
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 50 && !refused; i++) {
      const r = await call();
      if (r.isError) refused = r;
      else results++;
      expect(await toolCalls()).toHaveLength(results);
    }
    expect(refused).toBeDefined();
    const text = JSON.stringify(refused!.content);
    expect(text).toMatch(/get_user_details ran, but its result is withheld/);
    expect(text).toMatch(/could not be written .*ENOSPC.*free disk space/);
    expect(text).not.toContain(adele.username);
    expect(refused!.structuredContent).toBeUndefined();

    // A prompt that would leave no trace is never shown, and nothing is sent.
    const prompts: string[] = [];
    const onPrompt = (a: { tool: string }) => prompts.push(a.tool);
    valet.core.approvals.on('approval-requested', onPrompt);
    const mails = () => valet.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail').length;
    const mailsBefore = mails();
    try {
      const mail = await within(
        client.callTool({
          name: 'send_mail',
          arguments: { to: ['alex@contoso.test'], subject: 'Numbers', body: 'Hi Alex' },
        }),
        'answer to send_mail on a full disk',
      );
      expect(mail.isError).toBe(true);
      expect(JSON.stringify(mail.content)).toMatch(/send_mail was not run/);
    } finally {
      valet.core.approvals.off('approval-requested', onPrompt);
    }
    expect(prompts).toEqual([]);
    expect(valet.core.approvals.list()).toEqual([]);
    expect(mails()).toBe(mailsBefore);

    await freeDisk();
    const after = await call();
    expect(after.isError).toBeFalsy();
    expect(JSON.stringify(after.content)).toContain(adele.username);
    const records = await toolCalls();
    expect(records).toHaveLength(results + 1);
    expect(records.every((r) => r.outcome === 'allowed')).toBe(true);
    expect(await verifyAudit(valet.core.audit.dir)).toMatchObject({ ok: true });
  });
});
