import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../main/core/audit/audit-log.ts';
import { cliEnv, runCli } from '../../support/cli.ts';

describe('mcp-valet audit verify', () => {
  it('calls a pruned log intact and says that its older records were pruned, but not one whose oldest file was deleted by hand', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-verify-cli-'));
    const log = new AuditLog(dataDir, { maxFileBytes: 2048, retention: { maxBytes: 8192 } });
    await log.holdExclusive();
    for (let i = 0; i < 200; i++)
      await log.append({ type: 'tool_call', outcome: 'allowed', details: { i } });
    await log.close();
    const env = cliEnv({ VALET_DATA_DIR: dataDir });

    const pruned = await runCli(['audit', 'verify'], env);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stderr).toMatch(
      /The audit log is intact: \d+ records, .*\(records (\d+)–\d+\)\. Records before \1 were pruned by the retention limit, as a log_pruned record says\./,
    );

    const oldest = (await runCli(['audit', '--json'], env)).events[0]!.record as { seq: number };
    const files = (await readdir(join(dataDir, 'audit'))).filter((f) => /^audit-\d{6}/.test(f));
    await rm(join(dataDir, 'audit', files.sort()[0]!));
    const deleted = await runCli(['audit', 'verify'], env);
    expect(deleted.code).toBe(1);
    expect(deleted.stderr).toMatch(
      /The audit log was tampered with or damaged: record \d+ .* is the first record but has number \d+: the records before it were deleted \(no log_pruned record says they were pruned\)/,
    );
    expect(oldest.seq).toBeGreaterThan(1);
  });
});
