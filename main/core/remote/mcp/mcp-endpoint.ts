import { randomUUID } from 'node:crypto';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { callerAuthInfo, createMcpServer } from '../../mcp/server-factory.ts';
import type { ToolDefinition } from '../../mcp/tool-definition.ts';
import type { ToolRunnerDeps } from '../../mcp/tool-runner.ts';
import type { Policy } from '../../policy/policy-schema.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError, isValetError } from '../../util/valet-error.ts';
import { MAX_BODY_BYTES, refuse } from '../server/guards.ts';
import type { RefusalAggregator } from '../../audit/refusal-aggregator.ts';
import type { StoreApprovals } from '../approvals/store-approvals.ts';
import type { RemoteAdmission } from './admission.ts';
import { ReachingRunner, type ClientReach } from './client-reach.ts';
import { remoteAccount, type RemoteGraphAccess } from './remote-account.ts';
import { remoteAuditEvent, remoteCaller, type RemoteIdentity } from './remote-identity.ts';
import { missingScopes, sendInsufficientScope } from './step-up.ts';

/** One front door to the tools: a path, its token check and how a verified token becomes a caller. */
export interface McpFrontDoor {
  /** `/mcp` or `/entra/mcp`, under the public URL. */
  path: string;
  /** `<public><path>`: the resource its tokens must be issued for. */
  resource: string;
  /** Its protected resource metadata, named in every 401 and 403. */
  resourceMetadataUrl: string;
  verifier: OAuthTokenVerifier;
  /** Valet mode: a `tools/call` of a tool outside the token's scopes gets a 403 step-up. */
  stepUp: boolean;
  /** Who a verified request comes from. */
  identify(auth: AuthInfo, policy: Policy): Promise<RemoteIdentity>;
  /** Where that request's Graph tokens come from. */
  graphAccess(auth: AuthInfo, identity: RemoteIdentity): RemoteGraphAccess;
}

/** What every front door shares: the tools, the runner's collaborators, the policy and the limits. */
export interface McpEndpointDeps {
  tools: readonly ToolDefinition[];
  /** The runner's collaborators but the account, which is the request's. */
  runner: Omit<ToolRunnerDeps, 'auth' | 'policy' | 'approvals'>;
  policy: () => Promise<Policy>;
  /** Approvals in the shared store; each request asks them as its own user. */
  approvals: StoreApprovals;
  /** What each key's client declared it can do, for how approvals reach it. */
  reach: ClientReach;
  admission: RemoteAdmission;
  /** Counts 403 step-ups and 429s into the audit log, as the local endpoint counts refusals. */
  refusals: Pick<RefusalAggregator, 'add'>;
  logger: Logger;
  /** SSE comment keep-alives while a call waits (approval); the SDK's 15 s by default. */
  keepAliveMs?: number;
}

/**
 * The MCP endpoints: stateless Streamable HTTP, a new MCP server and transport for every POST,
 * so any instance can answer any request and nothing of a client lives between requests. A
 * request passes, in turn: the bearer token check (401 naming the resource metadata), the body
 * (JSON, 1 MiB), the step-up check (valet mode), the rate limits (429 with Retry-After), both
 * counted into the audit log like the local endpoint's refusals, and
 * then the runner, which checks the policy, waits for approvals and audits every call. Answers
 * stream as SSE, whose keep-alives hold a long approval wait open through proxies. GET and
 * DELETE are not served: there is no stream or session to them.
 */
export function mcpEndpoint(doors: readonly McpFrontDoor[], deps: McpEndpointDeps): Router {
  const router = Router();
  const json = express.json({ limit: MAX_BODY_BYTES });
  for (const door of doors) {
    router.post(
      door.path,
      (req, res, next) => {
        if (req.headers.authorization !== undefined) return next();
        // RFC 6750 §3.1: a request with no credentials at all gets the challenge without an
        // error code; it says where to learn how to get a token.
        res
          .status(401)
          .set('www-authenticate', `Bearer resource_metadata="${door.resourceMetadataUrl}"`)
          .json({ error: 'invalid_token', error_description: 'A bearer token is required' });
      },
      bearerCheck(door),
      json,
      (req, res, next) => {
        serve(door, deps, req, res).catch(next);
      },
    );
    router.all(door.path, (_req, res) => {
      res.set('allow', 'POST');
      refuse(res, 405, 'Method not allowed: this endpoint takes POST only');
    });
  }
  return router;
}

/** Whether a request's body holds a `tools/call` (a JSON-RPC message or a batch). */
function callsTool(body: unknown): boolean {
  return (Array.isArray(body) ? body : [body]).some(
    (m) =>
      typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'tools/call',
  );
}

/**
 * The SDK's bearer check of a door, with one difference: a token that cannot be checked
 * because the shared store is unreachable passes the store's error on (the app answers 503 with
 * Retry-After) instead of the SDK's 500, so a client backs off and retries.
 */
function bearerCheck(door: McpFrontDoor): RequestHandler {
  const expectedResource = new URL(door.resource);
  return (req, res, next) => {
    const [type, token] = (req.headers.authorization ?? '').split(' ');
    const verified =
      type?.toLowerCase() === 'bearer' && token
        ? door.verifier.verifyAccessToken(token)
        : undefined;
    // The SDK's middleware reads this request's check: one verification per request.
    const sdkCheck = requireBearerAuth({
      verifier: { verifyAccessToken: (t) => verified ?? door.verifier.verifyAccessToken(t) },
      resourceMetadataUrl: door.resourceMetadataUrl,
      expectedResource,
    });
    if (!verified) {
      void sdkCheck(req, res, next);
      return;
    }
    verified.then(
      () => void sdkCheck(req, res, next),
      (err: unknown) =>
        isValetError(err) && err.code === 'store-unavailable'
          ? next(err)
          : void sdkCheck(req, res, next),
    );
  };
}

async function serve(
  door: McpFrontDoor,
  deps: McpEndpointDeps,
  req: Request,
  res: Response,
): Promise<void> {
  const auth = (req as Request & { auth?: AuthInfo }).auth as AuthInfo;
  if (door.stepUp) {
    const needed = missingScopes(req.body, auth);
    if (needed.length > 0) {
      const keyId = (auth.extra as { keyId?: unknown } | undefined)?.keyId;
      deps.refusals.add({
        type: 'endpoint_rejected',
        reason: 'insufficient_scope',
        status: 403,
        ...(typeof keyId === 'string' ? { keyId } : {}),
      });
      sendInsufficientScope(res, auth, needed, door.resourceMetadataUrl);
      return;
    }
  }
  const policy = await deps.policy();
  const identity = await door.identify(auth, policy);
  const requestId = randomUUID();
  const graphAccess = door.graphAccess(auth, identity);
  // A tool call reads the user's token cache (roles, tokens): let it go with admission's reads.
  if (callsTool(req.body)) graphAccess.warm?.();
  // Admission and what the client declared are independent reads: one round trip for both.
  const [admission, reached] = await Promise.allSettled([
    deps.admission.admit(identity, requestId, policy.rateLimits, policy.approvalTimeoutSeconds),
    deps.reach.forRequest(identity.key.id, req.body),
  ]);
  if (admission.status === 'rejected') throw admission.reason;
  const admitted = admission.value;
  if (reached.status === 'rejected') {
    if (admitted.ok) admitted.release();
    throw reached.reason;
  }
  if (!admitted.ok) {
    deps.logger.info(
      `A request of key ${identity.key.id} was refused: over its ${admitted.reason} limit`,
    );
    deps.refusals.add({
      type: 'rate_limited',
      reason: admitted.reason,
      keyId: identity.key.id,
      keyName: identity.key.name,
      retryAfterSeconds: admitted.retryAfterSeconds,
    });
    res.set('retry-after', String(admitted.retryAfterSeconds));
    refuse(res, 429, `Too many requests: over the ${admitted.reason} limit; retry later`);
    return;
  }
  // The client hanging up ends its call: an approval wait stops, and the tool does not run.
  const hangUp = new AbortController();
  const reach = reached.value;
  const runner = new ReachingRunner(
    {
      ...deps.runner,
      audit: (event) => deps.runner.audit(remoteAuditEvent(event, identity)),
      policy: deps.policy,
      approvals: deps.approvals.requester({ oid: identity.principal.oid }, reach),
      auth: remoteAccount(identity, graphAccess),
    },
    reach,
  );
  const server = createMcpServer(deps.tools, runner);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    ...(deps.keepAliveMs !== undefined ? { keepAliveMs: deps.keepAliveMs } : {}),
  });
  res.once('close', () => {
    if (!res.writableFinished) hangUp.abort();
    admitted.release();
    void transport.close().catch(() => undefined);
    void server.close().catch(() => undefined);
  });
  try {
    await server.connect(transport);
    // The transport hands this to the tools' handlers: the caller, never the bearer token.
    (req as Request & { auth?: AuthInfo }).auth = callerAuthInfo(
      remoteCaller(identity),
      hangUp.signal,
    );
    await transport.handleRequest(req, res, req.body);
  } catch (err) {
    deps.logger.error(`An MCP request of key ${identity.key.id} failed: ${describeError(err)}`);
    if (!res.headersSent) refuse(res, 500, 'The server failed to answer this request');
    else res.end();
  }
}
