import { readAudit } from '../../main/core/audit/audit-reader.ts';
import type { AuditRecord } from '../../main/core/audit/audit-types.ts';

/** The records of the audit log in `dir`, oldest first: those `keep` accepts, or all of them. */
export async function auditRecords(
  dir: string,
  keep: (record: AuditRecord) => boolean = () => true,
): Promise<AuditRecord[]> {
  const found: AuditRecord[] = [];
  for await (const record of readAudit(dir)) if (keep(record)) found.push(record);
  return found;
}
