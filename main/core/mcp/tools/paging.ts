import { z } from 'zod';
import { climbsOut } from '../../graph/graph-link.ts';
import { ValetError } from '../../util/valet-error.ts';
import type { ToolContext, ToolName } from '../tool-definition.ts';
import { invalidArguments } from './tool-input.ts';

/** Input: the opaque token of the next page, exactly as a previous call returned it. */
export const pageTokenInput = z
  .string()
  .min(1)
  .max(4096)
  .describe(
    'To get the next page, pass nextPageToken from the previous result unchanged; the other arguments are then ignored (the token carries them).',
  );

/** Output: the token of the next page, present only when there are more results. */
export const nextPageTokenOutput = z
  .string()
  .optional()
  .describe('Present when more results exist: pass it as pageToken to get the next page.');

/** A Graph collection page. */
interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

/** A Graph request as a tool makes it. */
type ToolGraphRequest = Parameters<ToolContext['graph']>[0];

/** One page of a Graph collection, as a paging tool returns it. */
export interface ToolPage<T> {
  items: T[];
  /** `{ nextPageToken }` when more results exist, else nothing: spread it into the result. */
  more: { nextPageToken?: string };
}

/** How a paging tool reads its collection. */
export interface Collection {
  /** Tests the path below the Graph base that a next-page link must have (see pageLink). */
  resource: RegExp;
  /** The first page's request; may throw for arguments that cannot make one. */
  first: () => Omit<ToolGraphRequest, 'headers'>;
  /** Sent with every page, the first and the next ones. */
  headers?: Record<string, string>;
}

/**
 * Reads one page of a Graph collection for `tool`: the one `pageToken` names, once checked to
 * be a next page of the same collection, or else the first. Graph's `@odata.nextLink` is the
 * next page token, as Graph wrote it.
 */
export async function readPage<T>(
  ctx: Pick<ToolContext, 'graph'>,
  tool: ToolName,
  pageToken: string | undefined,
  collection: Collection,
): Promise<ToolPage<T>> {
  const { resource, first, headers } = collection;
  const request = pageToken ? pageLink(tool, pageToken, resource) : first();
  const { data } = await ctx.graph<GraphPage<T>>({ ...request, ...(headers ? { headers } : {}) });
  const link = data['@odata.nextLink'];
  const next = typeof link === 'string' && link !== '' ? link : undefined;
  return { items: data.value ?? [], more: next ? { nextPageToken: next } : {} };
}

/** The words a search's first page looks for: a search without a pageToken needs them. */
export function firstPageQuery(tool: ToolName, query: string | undefined): string {
  if (query === undefined)
    throw invalidArguments(tool, 'query is required (or pageToken, for a next page)');
  return query;
}

/** A next page's request: the link, and the test the Graph client applies to its path below the base. */
interface PageRequest {
  path: string;
  linkPath: (path: string) => boolean;
}

/**
 * Checks that a page token is a next-page link of the same resource, so that a token from
 * one tool cannot read another resource with this tool's token. `resource` tests the decoded
 * path below the Graph base URL, anchored at both ends (`/^\/me\/messages$/i`). A link with
 * dot segments (`..`, `%2e%2e`, which the URL parser would resolve away) is refused, and so
 * is one whose path could climb out once decoded (encoded slashes, double encoding). The
 * base is not known here, so the path must end in the resource; the Graph client then
 * checks the base and the whole path below it.
 */
function pageLink(tool: string, token: string, resource: RegExp): PageRequest {
  const linkPath = (path: string) => resource.test(path);
  const url = URL.canParse(token) ? new URL(token) : undefined;
  const ok =
    url !== undefined &&
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.username === '' &&
    url.password === '' &&
    !hasDotSegment(token) &&
    !climbsOut(url.pathname) &&
    endsWith(decodeURIComponent(url.pathname), linkPath);
  if (!ok) {
    throw new ValetError(
      'invalid_page_token',
      `That pageToken is not a next page of ${tool}: pass the nextPageToken of the previous ${tool} result unchanged, or leave pageToken out to start again`,
    );
  }
  return { path: token, linkPath };
}

/**
 * Whether the link, as written, has a `.` or `..` segment (`%2e` in any case counts as a
 * dot). Graph never writes one; the URL parser would resolve it away, out of the base path.
 */
function hasDotSegment(link: string): boolean {
  const path = link.replace(/^[^:/?#]*:\/\/[^/\\?#]*/, '').replace(/[?#][^]*$/, '');
  return path.split(/[/\\]/).some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

/** Whether the part of `path` from one of its slashes on passes `test`. */
function endsWith(path: string, test: (below: string) => boolean): boolean {
  for (let at = path.indexOf('/'); at !== -1; at = path.indexOf('/', at + 1))
    if (test(path.slice(at))) return true;
  return false;
}
