import type { Endpoint, Route } from './endpoint.ts';
import { badRequest, GraphError } from './errors.ts';
import { contextUrl, page, project } from './odata.ts';
import { SCOPES } from './scopes.ts';

const DRIVE_ITEM_PROPERTIES = [
  'id',
  'name',
  'size',
  'webUrl',
  'createdDateTime',
  'lastModifiedDateTime',
  'eTag',
  'cTag',
  'createdBy',
  'lastModifiedBy',
  'parentReference',
  'file',
  'folder',
  'searchResult',
] as const;

const SEARCH_CALL = /^search\(q=(.*)\)$/is;

/** `root/search(q='…')` or `search(q='…')` under /me/drive: the decoded search text. */
function matchSearch(segments: readonly string[]): string[] | undefined {
  if (segments[0]?.toLowerCase() !== 'me' || segments[1]?.toLowerCase() !== 'drive')
    return undefined;
  const rest = segments[2]?.toLowerCase() === 'root' ? segments.slice(3) : segments.slice(2);
  const call = SEARCH_CALL.exec(rest.join('/'));
  return call ? [call[1] ?? ''] : undefined;
}

/** An OData string literal: single quotes, a quote inside doubled. */
function stringLiteral(literal: string): string {
  const text = literal.trim();
  const inner = text.slice(1, -1);
  if (
    text.length < 2 ||
    !text.startsWith("'") ||
    !text.endsWith("'") ||
    inner.replaceAll("''", '').includes("'")
  ) {
    throw new GraphError(
      400,
      'invalidRequest',
      `Invalid search text ${literal}: write q='…' with single quotes, doubling any quote inside.`,
    );
  }
  return inner.replaceAll("''", "'");
}

function skipToken(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const value = Number(
    Buffer.from(raw, 'base64url')
      .toString('utf8')
      .replace(/^offset:/, ''),
  );
  if (!Number.isSafeInteger(value) || value < 0) throw badRequest('The $skiptoken is not valid.');
  return value;
}

const search: Endpoint = {
  scope: SCOPES.readFiles,
  options: ['$top', '$select', '$skiptoken'],
  handle: ({ data, query, root, params }) => {
    const terms = stringLiteral(params[0] ?? '')
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean);
    const folderNames = new Map(
      data.driveItems
        .filter((item) => item.folder)
        .map((item) => [item.id, item.name.toLowerCase()]),
    );
    const items = data.driveItems
      .filter((item) => {
        const text = `${item.name} ${folderNames.get(item.parentReference.id) ?? ''}`.toLowerCase();
        return terms.every((term) => text.includes(term));
      })
      .sort((a, b) => b.lastModifiedDateTime.localeCompare(a.lastModifiedDateTime));
    const select = query.select(DRIVE_ITEM_PROPERTIES, 'microsoft.graph.driveItem');
    return {
      status: 200,
      body: page({
        items,
        top: query.top(200, 1000),
        skip: skipToken(query.get('$skiptoken')),
        context: contextUrl(root, 'Collection(driveItem)', select),
        // OneDrive pages with an opaque $skiptoken rather than $skip.
        nextLink: (skip) =>
          query.withOption('$skiptoken', Buffer.from(`offset:${skip}`).toString('base64url')),
        shape: (item) => project(item, select, ['id']),
      }),
    };
  },
};

/** `GET /me/drive/root/search(q='…')`. */
export const fileRoutes: Route[] = [{ match: matchSearch, methods: { GET: search } }];
