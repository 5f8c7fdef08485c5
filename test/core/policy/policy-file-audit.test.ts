import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValetCore } from '../../../main/core/app/valet-core.ts';
import { loadConfig } from '../../../main/core/config/load-config.ts';
import { writeFileAtomic } from '../../../main/core/util/atomic-file.ts';
import { STAMP_MAX_AGE_MS } from '../../../main/core/util/watched-stamp.ts';
import { auditRecords } from '../../support/audit-records.ts';

/** Past this, the store looks at the file again even where the file watch says nothing. */
const seen = () => new Promise((resolve) => setTimeout(resolve, STAMP_MAX_AGE_MS + 10));

/** A core on a fresh data dir whose config.json says `file`; nobody signed in, no endpoint. */
async function coreWith(file: Record<string, unknown>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-policy-audit-'));
  const configFile = join(dataDir, 'config.json');
  await writeFile(configFile, JSON.stringify(file));
  const env = { VALET_DATA_DIR: dataDir, VALET_BROKER: 'off' };
  const core = await ValetCore.create({ config: await loadConfig(env), env });
  const policyRecords = async () =>
    auditRecords(join(dataDir, 'audit'), (r) => r.type === 'policy_changed');
  const configRecords = async () =>
    auditRecords(join(dataDir, 'audit'), (r) => r.type === 'config_changed');
  return { core, configFile, policyRecords, configRecords };
}

describe('policy changes in the audit log', () => {
  it('an edit of config.json by hand is recorded when the policy store sees it: what changed, and only the names of other settings', async () => {
    const { core, configFile, policyRecords, configRecords } = await coreWith({
      authority: 'https://login.example.test/tenant',
      policy: { tools: { search_people: { enabled: false } } },
    });
    try {
      await writeFileAtomic(
        configFile,
        JSON.stringify({
          authority: 'https://user:pa55word@login.example.test/tenant',
          policy: {
            tools: { send_mail: { requireRole: 'Valet.Mail.Send' } },
            approvalTimeoutSeconds: 60,
          },
        }),
      );
      await seen();
      expect((await core.currentPolicy()).approvalTimeoutSeconds).toBe(60);
    } finally {
      await core.close();
    }
    const records = await policyRecords();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      outcome: 'ok',
      details: {
        source: 'config.json',
        changes: [
          { setting: 'approvalTimeoutSeconds', from: 120, to: 60 },
          { setting: 'tools.search_people.enabled', from: false, to: null },
          { setting: 'tools.send_mail.requireRole', from: null, to: 'Valet.Mail.Send' },
        ],
      },
    });
    const config = await configRecords();
    expect(config.map((r) => r.details)).toEqual([
      { source: 'config.json', settings: ['authority'], applies: 'at the next start' },
    ]);
    expect(JSON.stringify([...records, ...config])).not.toContain('pa55word');
  });

  it('a broken edit is recorded as rejected, and the policy in force stays', async () => {
    const { core, configFile, policyRecords } = await coreWith({
      policy: { tools: { search_people: { enabled: false } } },
    });
    try {
      await writeFileAtomic(configFile, '{"policy": {"tools": {"send_mail": {"enabled": "no"}}}}');
      await seen();
      expect((await core.currentPolicy()).tools.search_people?.enabled).toBe(false);
      // The same broken file seen again is not recorded again.
      await seen();
      await core.currentPolicy();
    } finally {
      await core.close();
    }
    const records = await policyRecords();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      outcome: 'rejected',
      details: {
        source: 'config.json',
        reason: expect.stringContaining('policy.tools.send_mail.enabled'),
      },
    });
  });

  it('a tool switched in the app is recorded once, not again when the store reads its own write', async () => {
    const { core, policyRecords } = await coreWith({});
    try {
      await core.setToolEnabled('search_people', false);
      await seen();
      await core.currentPolicy();
    } finally {
      await core.close();
    }
    const records = await policyRecords();
    expect(records.map((r) => r.details)).toEqual([{ tool: 'search_people', enabled: false }]);
  });

  it('a write that changes nothing in the file is not recorded', async () => {
    const { core, configFile, policyRecords } = await coreWith({
      policy: { approvalTimeoutSeconds: 30 },
    });
    try {
      await writeFileAtomic(
        configFile,
        JSON.stringify({ policy: { approvalTimeoutSeconds: 30 } }, null, 2),
      );
      await seen();
      await core.currentPolicy();
    } finally {
      await core.close();
    }
    expect(await policyRecords()).toEqual([]);
  });
});
