import { ValetError } from '../util/valet-error.ts';

/** A Graph failure with a message a person can act on, and what the audit needs. */
export class GraphError extends ValetError {
  readonly status: number | undefined;
  readonly graphCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(
    code: string,
    message: string,
    details: { status?: number; graphCode?: string; requestId?: string; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.name = 'GraphError';
    this.status = details.status;
    this.graphCode = details.graphCode;
    this.requestId = details.requestId;
  }
}

/** Graph's error body: `{ "error": { "code", "message" } }`. */
export interface GraphErrorBody {
  error?: { code?: string; message?: string };
}

/** What the failing request was, for the message. */
export interface FailedRequest {
  status: number;
  body: GraphErrorBody | undefined;
  requestId: string | undefined;
  scopes: string[];
  attempts: number;
  elapsedMs: number;
  retryAfterSeconds: number | undefined;
}

/** Maps a final Graph error response to a GraphError naming the cause and the fix. */
export function graphErrorFor(f: FailedRequest): GraphError {
  const graphCode = f.body?.error?.code;
  const graphMessage = (f.body?.error?.message ?? '').split(/\r?\n/)[0]?.slice(0, 300) ?? '';
  const details = {
    status: f.status,
    ...(graphCode ? { graphCode } : {}),
    ...(f.requestId ? { requestId: f.requestId } : {}),
  };
  const tag = graphCode ? ` (${graphCode})` : '';
  const attempts = `${f.attempts} attempt${f.attempts === 1 ? '' : 's'}`;
  switch (f.status) {
    case 401:
      return new GraphError(
        'graph_unauthorized',
        `Microsoft Graph rejected the sign-in${tag}: sign in again with \`mcp-valet login\` or from the app`,
        details,
      );
    case 403: {
      const scopes = f.scopes.join(', ') || 'a permission';
      return new GraphError(
        'graph_forbidden',
        `Microsoft Graph denied access${tag}: this needs ${scopes}; run \`mcp-valet login --scopes ${f.scopes.join(',')}\` or ask your admin to grant it`,
        details,
      );
    }
    case 404:
      return new GraphError(
        'graph_not_found',
        `Not found in Microsoft Graph${tag}${graphMessage ? `: ${graphMessage}` : ''}`,
        details,
      );
    case 429:
      return new GraphError(
        'graph_throttled',
        `Microsoft Graph is throttling requests${tag} after ${attempts}${f.retryAfterSeconds !== undefined ? ` and asks to wait ${f.retryAfterSeconds} s` : ''}: try again later`,
        details,
      );
    case 400:
      return new GraphError(
        'graph_bad_request',
        `Microsoft Graph refused the request${tag}${graphMessage ? `: ${graphMessage}` : ''}`,
        details,
      );
    default:
      if (f.status >= 500) {
        return new GraphError(
          'graph_unavailable',
          `Microsoft Graph is unavailable (HTTP ${f.status}${graphCode ? `, ${graphCode}` : ''}) after ${attempts} over ${(f.elapsedMs / 1000).toFixed(1)} s: try again later`,
          details,
        );
      }
      return new GraphError(
        'graph_failed',
        `Microsoft Graph answered HTTP ${f.status}${tag}${graphMessage ? `: ${graphMessage}` : ''}`,
        details,
      );
  }
}
