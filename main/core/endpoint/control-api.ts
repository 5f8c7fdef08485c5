import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { approvalDecisionSchema } from '../approvals/approval-decision.ts';
import type { ApprovalService } from '../approvals/approval-service.ts';
import { AUDIT_TYPES, type AuditEvent } from '../audit/audit-types.ts';
import { isValetError } from '../util/valet-error.ts';
import { bearerOf, readJsonBody } from './request-guards.ts';

const auditEventSchema = z.object({
  type: z.enum(AUDIT_TYPES),
  actor: z
    .object({ keyId: z.string(), keyName: z.string(), account: z.string(), client: z.string() })
    .partial()
    .optional(),
  outcome: z.string().max(64),
  details: z.record(z.string(), z.unknown()).optional(),
});

const proofRequestSchema = z.object({ nonce: z.string().regex(/^[\w-]{32,128}$/) });

const keysChangedSchema = z.object({
  revoked: z
    .string()
    .regex(/^[0-9a-f]{12}$/)
    .optional(),
});

/**
 * The answer to an endpoint challenge: an HMAC, under the run's control token, of the
 * challenger's nonce and of the address and port the answering server listens on. Binding the
 * port means a program on another port cannot pass on the real server's answer as its own.
 */
export function endpointProof(
  controlToken: string,
  nonce: string,
  address: string,
  port: number,
): string {
  return createHmac('sha256', controlToken)
    .update(`mcp-valet endpoint proof v1\n${nonce}\n${address}:${port}`)
    .digest('base64url');
}

/** What the control API serves. */
export interface ControlHandlers {
  approvals: ApprovalService;
  /** Appends a record from another process (a CLI command) while this one holds the log. */
  audit: (event: AuditEvent) => Promise<void>;
  /**
   * Another process (a CLI command) changed keys.json, and revoked the key `revoked` if given:
   * read the keys again before the next request. Without it the route answers 404, and the
   * CLI waits until this process looks at the file by itself.
   */
  keysChanged?: (revoked: string | undefined) => Promise<void>;
}

/** Answers a control request with JSON, never cached; a response already begun is just ended. */
export function sendControlJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Whether the presented token is the expected one, compared in constant time. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  const a = Buffer.from(presented ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The local control API under /control, for MCP Valet's own CLI while a server runs
 * (`mcp-valet approvals …`, audit records of CLI commands, a key revoked by `keys revoke`, the
 * stdio bridge's check that it talks to this user's MCP Valet). It takes the per-run control token from endpoint.json
 * (owner-only), never a valet key, so an MCP client cannot approve its own calls.
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  controlToken: string,
  handlers: ControlHandlers,
): Promise<void> {
  if (path === '/control/proof') {
    await answerChallenge(req, res, controlToken);
    return;
  }
  if (!tokenMatches(bearerOf(req), controlToken)) {
    sendControlJson(res, 401, {
      error: 'the control API needs the control token from endpoint.json',
    });
    return;
  }
  try {
    if (req.method === 'GET' && path === '/control/approvals') {
      sendControlJson(res, 200, { approvals: handlers.approvals.list() });
      return;
    }
    if (req.method === 'POST' && path === '/control/keys/changed' && handlers.keysChanged) {
      const body = await readJsonBody(req, 1024);
      const parsed = body.ok ? keysChangedSchema.safeParse(body.value) : undefined;
      if (!parsed?.success) {
        sendControlJson(res, 400, { error: 'send {} or {"revoked": "<key id>"}' });
        return;
      }
      await handlers.keysChanged(parsed.data.revoked);
      sendControlJson(res, 200, { reloaded: true });
      return;
    }
    const decideMatch = /^\/control\/approvals\/([\w-]+)$/.exec(path);
    if (req.method === 'POST' && (decideMatch || path === '/control/audit')) {
      const body = await readJsonBody(req, 64 * 1024);
      if (!body.ok) {
        sendControlJson(res, 400, { error: 'send a JSON body' });
        return;
      }
      if (decideMatch) {
        const decision = approvalDecisionSchema.safeParse(body.value);
        if (!decision.success) {
          const issue = decision.error.issues[0];
          sendControlJson(res, 400, {
            error:
              issue?.path.at(-1) === 'minutes'
                ? `minutes ${issue.message}`
                : 'the decision is {"kind":"once"}, {"kind":"window","minutes":N} or {"kind":"deny"}',
          });
          return;
        }
        const approval = handlers.approvals.decide(decideMatch[1]!, decision.data);
        sendControlJson(res, 200, {
          decided: { id: approval.id, tool: approval.tool, key: approval.key },
        });
        return;
      }
      const event = auditEventSchema.safeParse(body.value);
      if (!event.success) {
        sendControlJson(res, 400, { error: 'not an audit event' });
        return;
      }
      await handlers.audit(event.data as AuditEvent);
      sendControlJson(res, 200, { written: true });
      return;
    }
    sendControlJson(res, 404, { error: 'no such control route' });
  } catch (err) {
    sendControlJson(res, isValetError(err) ? 409 : 500, {
      error: isValetError(err) ? err.message : 'internal error',
      ...(isValetError(err) ? { code: err.code } : {}),
    });
  }
}

/**
 * The one route without the token: a client that holds the token (from the owner-only
 * endpoint.json) sends a fresh nonce and checks the answer before it sends a valet key here,
 * so a program squatting the port gets no key. The token itself never crosses the wire, and
 * the answer is useless for any other nonce or port.
 */
async function answerChallenge(
  req: IncomingMessage,
  res: ServerResponse,
  controlToken: string,
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    sendControlJson(res, 405, {
      error: 'the proof route takes POST {"nonce": "<32 to 128 base64url characters>"}',
    });
    return;
  }
  const body = await readJsonBody(req, 1024);
  const parsed = body.ok ? proofRequestSchema.safeParse(body.value) : undefined;
  const { localAddress, localPort } = req.socket;
  if (!parsed?.success || localAddress === undefined || localPort === undefined) {
    sendControlJson(res, 400, { error: 'send {"nonce": "<32 to 128 base64url characters>"}' });
    return;
  }
  sendControlJson(res, 200, {
    proof: endpointProof(controlToken, parsed.data.nonce, localAddress, localPort),
  });
}
