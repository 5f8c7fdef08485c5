import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ApprovalDecision, ApprovalService } from '../approvals/approval-service.ts';
import { AUDIT_TYPES, type AuditEvent } from '../audit/audit-types.ts';
import { isValetError } from '../util/valet-error.ts';
import { bearerOf, readJsonBody } from './request-guards.ts';

const decisionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('once') }),
  z.object({ kind: z.literal('window'), minutes: z.number().int().min(1).max(1440) }),
  z.object({ kind: z.literal('deny') }),
]);

const auditEventSchema = z.object({
  type: z.enum(AUDIT_TYPES),
  actor: z
    .object({ keyId: z.string(), keyName: z.string(), account: z.string(), client: z.string() })
    .partial()
    .optional(),
  outcome: z.string().max(64),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** What the control API serves. */
export interface ControlHandlers {
  approvals: ApprovalService;
  /** Appends a record from another process (a CLI command) while this one holds the log. */
  audit: (event: AuditEvent) => Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function tokenMatches(presented: string | undefined, expected: string): boolean {
  const a = Buffer.from(presented ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The local control API under /control, for MCP Valet's own CLI while a server runs
 * (`mcp-valet approvals …`, audit records of CLI commands). It takes the per-run control
 * token from endpoint.json (owner-only), never a valet key, so an MCP client cannot
 * approve its own calls.
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  controlToken: string,
  handlers: ControlHandlers,
): Promise<void> {
  if (!tokenMatches(bearerOf(req), controlToken)) {
    send(res, 401, { error: 'the control API needs the control token from endpoint.json' });
    return;
  }
  try {
    if (req.method === 'GET' && path === '/control/approvals') {
      send(res, 200, { approvals: handlers.approvals.list() });
      return;
    }
    const decideMatch = /^\/control\/approvals\/([\w-]+)$/.exec(path);
    if (req.method === 'POST' && (decideMatch || path === '/control/audit')) {
      const body = await readJsonBody(req, 64 * 1024);
      if (!body.ok) {
        send(res, 400, { error: 'send a JSON body' });
        return;
      }
      if (decideMatch) {
        const decision = decisionSchema.safeParse(body.value);
        if (!decision.success) {
          send(res, 400, {
            error:
              'the decision is {"kind":"once"}, {"kind":"window","minutes":N} or {"kind":"deny"}',
          });
          return;
        }
        const approval = handlers.approvals.decide(
          decideMatch[1]!,
          decision.data as ApprovalDecision,
        );
        send(res, 200, { decided: { id: approval.id, tool: approval.tool, key: approval.key } });
        return;
      }
      const event = auditEventSchema.safeParse(body.value);
      if (!event.success) {
        send(res, 400, { error: 'not an audit event' });
        return;
      }
      await handlers.audit(event.data as AuditEvent);
      send(res, 200, { written: true });
      return;
    }
    send(res, 404, { error: 'no such control route' });
  } catch (err) {
    send(res, isValetError(err) ? 409 : 500, {
      error: isValetError(err) ? err.message : 'internal error',
      ...(isValetError(err) ? { code: err.code } : {}),
    });
  }
}
