import { z } from 'zod';
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

/**
 * Checks that a page token is a next-page link of the same resource (`resource` tests its
 * decoded path). The Graph client already refuses links off its base URL; this also stops a
 * token from one tool being used to read another resource with this tool's token.
 */
export function pageLink(tool: string, token: string, resource: (path: string) => boolean): string {
  let path: string | undefined;
  try {
    const url = new URL(token);
    path =
      url.protocol === 'https:' || url.protocol === 'http:'
        ? decodeURIComponent(url.pathname)
        : undefined;
  } catch {
    path = undefined;
  }
  if (path === undefined || !resource(path)) {
    throw new ValetError(
      'invalid_page_token',
      `That pageToken is not a next page of ${tool}: pass the nextPageToken of the previous ${tool} result unchanged, or leave pageToken out to start again`,
    );
  }
  return token;
}
