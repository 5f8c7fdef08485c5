/** A person whose mailbox, calendar, drive and people list the stand-in serves. */
export interface GraphUser {
  /** Entra object ID: the `oid` claim of the user's access tokens. */
  id: string;
  /** Sign-in name, also the user's mail address, e.g. adele@contoso.test. */
  username: string;
  /** Display name. */
  name: string;
}

/** Where the stand-in gets the IdP's public keys to verify access tokens. */
export type GraphKeySource = { jwksUri: string } | { jwks: { keys: object[] } };

/** Settings for `startGraphStandIn`. */
export interface GraphStandInOptions {
  /** The `iss` every access token must carry. */
  issuer: string;
  keys: GraphKeySource;
  /** The `aud` every access token must carry; Graph's resource URI by default. */
  audience?: string;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  users: GraphUser[];
  /** Clock for the seeded data (mail received "3 days ago"); token expiry uses the real clock. */
  now?: () => Date;
}

/** One request the stand-in answered, without its Authorization header or token. */
export interface RecordedRequest {
  /** Arrival time, `Date.now()`. */
  at: number;
  method: string;
  /** Decoded path, e.g. `/v1.0/me/messages`. */
  path: string;
  /** Decoded query parameters, keys as the client sent them (`$top`). */
  query: Record<string, string>;
  /** The token's `oid`, once the token has been verified. */
  userId?: string;
  /** The token's `scp`, once the token has been verified. */
  scopes: string[];
  status: number;
  /** Parsed JSON body of a POST. */
  body?: unknown;
  /** The `request-id` response header. */
  requestId: string;
}

/**
 * A failure or delay to inject. The first rule, in order of injection, that matches a
 * request and has uses left applies to it, before the token is checked.
 */
export interface FaultRule {
  /** HTTP method to match, any case; every method when absent. */
  method?: string;
  /** Exact decoded path (`/v1.0/me/messages`) or a pattern tested against it; every path when absent. */
  path?: string | RegExp;
  /** Status to answer with; without it the rule only delays the request. */
  status?: 429 | 503 | 504;
  /** `Retry-After` value. A 429 always carries one (1 second unless set); 503 and 504 only when set. */
  retryAfterSeconds?: number;
  /** Delay before answering (or before handling, when there is no status). */
  latencyMs?: number;
  /** How many requests the rule applies to: 1 by default, `Infinity` for a storm. */
  times?: number;
}

/** A started Graph stand-in. */
export interface RunningGraph {
  /** Base URL, `http://127.0.0.1:<port>/v1.0`: what `VALET_GRAPH_URL` gets. */
  url: string;
  /** Every answered request, in the order the answers went out. */
  requests: RecordedRequest[];
  /** Adds a fault after those already injected. */
  inject(fault: FaultRule): void;
  /** Removes every injected fault. */
  clearFaults(): void;
  close(): Promise<void>;
}
