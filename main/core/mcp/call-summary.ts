import type { SummaryLine } from '../approvals/approval-service.ts';
import type { ToolDefinition } from './tool-definition.ts';

/** What the approving person reads: the tool's own faithful description, or its arguments as given. */
export function approvalSummary(
  tool: ToolDefinition,
  input: Record<string, unknown>,
): { action: string; summary: SummaryLine[] } {
  if (tool.describe) return tool.describe(input as never);
  const summary = Object.entries(input)
    .filter(([, v]) => v !== undefined)
    .map(([label, v]) => ({
      label,
      value: typeof v === 'string' ? v.slice(0, 300) : JSON.stringify(v),
    }));
  return { action: tool.title, summary };
}

/**
 * The arguments as the audit log keeps them. Without a tool's own rule: numbers and booleans
 * as they are, text and lists only by size, so no message text, search terms or ids leak.
 */
export function auditArgs(
  tool: ToolDefinition,
  input: Record<string, unknown>,
): Record<string, unknown> {
  if (tool.auditArgs) return tool.auditArgs(input as never);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'string') out[k] = `${v.length} chars`;
    else if (Array.isArray(v)) out[k] = `${v.length} items`;
    else out[k] = 'object';
  }
  return out;
}
