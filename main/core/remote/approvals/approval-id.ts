import { createHash } from 'node:crypto';

/**
 * JSON with every object's keys in code-point order and `undefined` members left out, so the
 * same arguments always give the same text whatever order a client sent them in. The input is
 * arguments a tool's schema already accepted: plain JSON values.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What makes two calls the same call for approval: the user, the key, the tool and the
 * canonical arguments, hashed (SHA-256, hex) so the store holds none of them.
 */
export function callKeyOf(call: {
  oid: string;
  keyId: string;
  tool: string;
  args: Record<string, unknown>;
}): string {
  return sha256(canonicalJson([call.oid, call.keyId, call.tool, canonicalJson(call.args)]));
}

/**
 * The approval ID of a call: derived from its call key, so that a client retrying the call
 * finds the same approval (and its decision) on any instance. The first approval of a call is
 * `H(callKey)`; once a decision has been used (an approve-once that ran), the next identical
 * call gets `H(callKey, previous ID)`, so it asks again at a new address. 128 bits, base64url:
 * it names the approval in URLs and carries nothing of the call.
 */
export function approvalIdOf(callKey: string, previousId?: string): string {
  return createHash('sha256')
    .update(previousId === undefined ? callKey : `${callKey}\n${previousId}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/** Whether `text` has the shape of an approval ID, before any store lookup. */
export function isApprovalId(text: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(text);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
