import { writeSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIVE_FILE, parseLine } from '../../../main/core/audit/audit-file.ts';
import { AuditLog } from '../../../main/core/audit/audit-log.ts';
import { GENESIS } from '../../../main/core/audit/audit-types.ts';

describe('AuditLog writes', () => {
  it('gives the records of calls that end in the same turn of the event loop one write, chained in order', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-audit-batch-'));
    const writes: number[] = [];
    const log = new AuditLog(dataDir, {
      write: (fd, data, offset) => {
        writes.push(data.length - offset);
        return writeSync(fd, data, offset);
      },
    });
    await log.holdExclusive();
    // Thirty calls answered together, as at concurrency 32.
    await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        log.append({ type: 'tool_call', outcome: 'allowed', details: { tool: 'auth_status', n } }),
      ),
    );
    expect(writes).toHaveLength(1);
    // A call in a later turn gets its own write, once its record is queued.
    await log.append({ type: 'tool_call', outcome: 'allowed', details: { n: 30 } });
    expect(writes).toHaveLength(2);
    await log.close();
    const lines = (await readFile(join(dataDir, 'audit', ACTIVE_FILE), 'utf8')).trim().split('\n');
    const records = lines.map((l) => parseLine(l));
    expect(records.every((r) => r?.intact)).toBe(true);
    expect(records.map((r) => r?.record.details?.n)).toEqual(
      Array.from({ length: 31 }, (_, n) => n),
    );
    expect(records[0]?.record.prev).toBe(GENESIS);
    for (let i = 1; i < records.length; i++)
      expect(records[i]?.record.prev).toBe(records[i - 1]?.record.hash);
  });
});
