import { randomUUID } from 'node:crypto';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express, {
  Router,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { callerAuthInfo, createMcpServer } from '../../mcp/server-factory.ts';
import type { ToolDefinition } from '../../mcp/tool-definition.ts';
import type { ToolRunnerDeps } from '../../mcp/tool-runner.ts';
import type { Policy } from '../../policy/policy-schema.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError, isValetError } from '../../util/valet-error.ts';
import { MAX_BODY_BYTES, refuse } from '../server/guards.ts';
import type { RefusalAggregator } from '../../audit/refusal-aggregator.ts';
import type { StoreApprovals } from '../approvals/store-approvals.ts';
import type { ApprovalReach } from '../approvals/approval-reach.ts';
import type { AdmitCheck } from '../store/shared-store.ts';
import type {
  AdmissionSubject,
  Admitted,
  Refused,
  RemoteAdmission,
  Unverified,
} from './admission.ts';
import { carries, ReachingRunner, type ClientReach } from './client-reach.ts';
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
  /**
   * Valet mode: what a token says of its key before it is verified, when this instance has
   * verified a token of that key before. The request is then admitted (under `checks`, which
   * the store must find true first) and its reads made while the token is verified: one round
   * trip to the store instead of two. Nothing of it is used unless the token passes.
   */
  knownKey?(token: string): KnownKey | undefined;
}

/** See McpFrontDoor.knownKey. */
export interface KnownKey {
  subject: AdmissionSubject;
  checks: readonly AdmitCheck[];
  graphAccess(): RemoteGraphAccess;
}

/** What a request set going while its token was verified, for `serve` to take over. */
interface EarlyStart {
  subject: AdmissionSubject;
  requestId: string;
  policy: Policy;
  admission: Promise<Admitted | Refused | Unverified>;
  /** Absent for an `initialize`, whose write of the client's capabilities waits for the check. */
  reach: Promise<ApprovalReach | undefined> | undefined;
  graphAccess: RemoteGraphAccess;
}

const EARLY = Symbol('early start');
type WithEarly = Request & { [EARLY]?: EarlyStart };

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
      bearerCheck(door, deps, json),
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

/**
 * The SDK's bearer check of a door, with two differences. A token that cannot be checked
 * because the shared store is unreachable passes the store's error on (the app answers 503
 * with Retry-After) instead of the SDK's 500, so a client backs off and retries. And a token
 * of a key the door knows starts the request's admission and reads in the same round trip as
 * its check (see McpFrontDoor.knownKey); its body is parsed first, since they depend on it.
 */
function bearerCheck(
  door: McpFrontDoor,
  deps: McpEndpointDeps,
  json: RequestHandler,
): RequestHandler {
  const expectedResource = new URL(door.resource);
  const check = (token: string | undefined, req: Request, res: Response, next: NextFunction) => {
    const verified = token ? door.verifier.verifyAccessToken(token) : undefined;
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
  return (req, res, next) => {
    const [type, given] = (req.headers.authorization ?? '').split(' ');
    const token = type?.toLowerCase() === 'bearer' && given ? given : undefined;
    const known = token === undefined ? undefined : door.knownKey?.(token);
    if (known === undefined) {
      check(token, req, res, next);
      return;
    }
    json(req, res, (parseError?: unknown) => {
      // A body that is no JSON is refused once the token has passed, as for any request.
      if (parseError !== undefined) {
        check(token, req, res, (err?: unknown) => next(err ?? parseError));
        return;
      }
      deps.policy().then((policy) => {
        // From here to the check, all in one tick: the store gets it all in one round trip.
        (req as WithEarly)[EARLY] = startEarly(known, policy, deps, req, res);
        check(token, req, res, next);
      }, next);
    });
  };
}

/**
 * Admission under the token's checks, the client's declared capabilities and the user's
 * token cache, sent while the token is verified. A request that ends before `serve` takes
 * over (its token refused, a step-up) gives back the slot it may have got.
 */
function startEarly(
  known: KnownKey,
  policy: Policy,
  deps: McpEndpointDeps,
  req: Request,
  res: Response,
): EarlyStart {
  const requestId = randomUUID();
  const graphAccess = known.graphAccess();
  if (carries(req.body, 'tools/call')) graphAccess.warm?.();
  const { rateLimits, approvalTimeoutSeconds } = policy;
  const admission = deps.admission.admit(
    known.subject,
    requestId,
    rateLimits,
    approvalTimeoutSeconds,
    known.checks,
  );
  const reach = carries(req.body, 'initialize')
    ? undefined
    : deps.reach.forRequest(known.subject.keyId, req.body);
  // Either may never be awaited (the token refused): their failures are handled there.
  admission.catch(() => undefined);
  reach?.catch(() => undefined);
  res.once('close', () => {
    admission.then(
      (a) => a.ok && a.release(),
      () => undefined,
    );
  });
  return { subject: known.subject, requestId, policy, admission, reach, graphAccess };
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
  const started = (req as WithEarly)[EARLY];
  const policy = started?.policy ?? (await deps.policy());
  const identity = await door.identify(auth, policy);
  const subject = { keyId: identity.key.id, oid: identity.principal.oid };
  // A key's user never changes, so what was started early is this request's; were it not, its
  // slot goes back and the request is admitted afresh.
  const early =
    started?.subject.keyId === subject.keyId && started.subject.oid === subject.oid
      ? started
      : undefined;
  const requestId = early?.requestId ?? randomUUID();
  const graphAccess = early?.graphAccess ?? door.graphAccess(auth, identity);
  // A tool call reads the user's token cache (roles, tokens): let it go with admission's reads.
  if (!early && carries(req.body, 'tools/call')) graphAccess.warm?.();
  // Admission and what the client declared are independent reads: one round trip for both.
  const [admission, reached] = await Promise.allSettled([
    early?.admission ??
      deps.admission.admit(subject, requestId, policy.rateLimits, policy.approvalTimeoutSeconds),
    early?.reach ?? deps.reach.forRequest(identity.key.id, req.body),
  ]);
  if (admission.status === 'rejected') throw admission.reason;
  const admitted = admission.value;
  if (reached.status === 'rejected') {
    if (admitted.ok) admitted.release();
    throw reached.reason;
  }
  if (!admitted.ok && admitted.reason === 'token') {
    // The key was revoked, or the token revoked, between the token's check and admission.
    res
      .status(401)
      .set(
        'www-authenticate',
        `Bearer error="invalid_token", error_description="The access token is unknown, expired or revoked", resource_metadata="${door.resourceMetadataUrl}"`,
      )
      .json({
        error: 'invalid_token',
        error_description: 'The access token is unknown, expired or revoked',
      });
    return;
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
