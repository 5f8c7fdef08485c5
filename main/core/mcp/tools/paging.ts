import { z } from 'zod';
import { climbsOut } from '../../graph/graph-link.ts';
import { ValetError } from '../../util/valet-error.ts';

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
export interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

/** The next page token of a Graph page: Graph's own `@odata.nextLink`, or undefined on the last page. */
export function nextPageToken(page: GraphPage<unknown>): string | undefined {
  const link = page['@odata.nextLink'];
  return typeof link === 'string' && link !== '' ? link : undefined;
}

/** A next page's request: the link, and the test the Graph client applies to its path below the base. */
export interface PageRequest {
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
export function pageLink(tool: string, token: string, resource: RegExp): PageRequest {
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
