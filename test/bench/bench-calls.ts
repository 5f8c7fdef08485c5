// What the Activity benchmarks fill their audit logs with, and how they time a read.
import type { ToolCallRecord } from '../../main/core/mcp/call-record.ts';
import { percentile } from './stats.ts';

const TOOLS = ['get_user_details', 'list_messages', 'list_events', 'search_files', 'send_mail'];
const KEYS = ['vscode', 'claude-desktop', 'cursor', 'agent'];

/** Call `i` of a year of use: mostly allowed, some refused or failed, a few with approvals. */
export function benchCall(i: number): ToolCallRecord {
  const outcome = i % 23 === 0 ? 'denied' : i % 17 === 0 ? 'failed' : 'ok';
  const tool = TOOLS[i % TOOLS.length]!;
  return {
    tool,
    keyId: `k${i % KEYS.length}0123456789`,
    keyName: KEYS[i % KEYS.length]!,
    account: 'adele.vance@contoso.test',
    client: 'Visual Studio Code 1.99.3',
    outcome,
    ...(outcome === 'denied' ? { errorCode: 'policy_denied', rule: 'not-in-key' } : {}),
    ...(outcome === 'failed' ? { errorCode: 'graph_error' } : {}),
    args: tool === 'send_mail' ? { to: ['alex@contoso.test'], subjectChars: 12 } : { top: 10 },
    ...(tool === 'send_mail' ? { approval: 'approved' as const } : {}),
    durationMs: 40 + (i % 97),
    graphRequestIds: outcome === 'ok' ? [`${i.toString(16).padStart(8, '0')}-4f3a-9c1e`] : [],
  };
}

/** Times `run` `times` times; the first run apart (nothing of it cached in the process yet). */
export async function timed(times: number, run: () => Promise<unknown>) {
  const all: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await run();
    all.push(performance.now() - t);
  }
  return { first: all[0]!, p50: percentile(all, 50), p99: percentile(all, 99), runs: times };
}
