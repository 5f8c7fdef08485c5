import type { SummaryLine } from '../approvals/approval-service.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { preview, urlLines, visible } from './tools/approval-text.ts';
import { textUrls } from './tools/mail-urls.ts';

/** How much of each argument the prompt shows before it says what it cut. */
const ARGUMENT_SHOWN = { lines: 10, chars: 500 };

/**
 * What the approving person reads: the tool's own faithful description, or else its
 * arguments as given, with invisible characters marked, cuts said, and the URLs in them.
 */
export function approvalSummary(
  tool: ToolDefinition,
  input: Record<string, unknown>,
): { action: string; summary: SummaryLine[] } {
  if (tool.describe) return tool.describe(input as never);
  const shown = Object.entries(input)
    .filter(([, v]) => v !== undefined)
    .map(([label, v]) => ({ label, text: typeof v === 'string' ? v : JSON.stringify(v) }));
  return {
    action: tool.title,
    summary: [
      ...shown.map(({ label, text }) => ({
        label: visible(label),
        value: preview(text, ARGUMENT_SHOWN),
      })),
      ...urlLines(shown.flatMap(({ text }) => textUrls(text))),
    ],
  };
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
