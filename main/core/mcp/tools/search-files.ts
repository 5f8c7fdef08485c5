import { z } from 'zod';
import { defineTool, READ_GRAPH_HINTS } from '../tool-definition.ts';
import { odataString } from './odata-text.ts';
import { firstPageQuery, nextPageTokenOutput, pageTokenInput, readPage } from './paging.ts';

interface GraphDriveItem {
  id: string;
  name?: string | null;
  webUrl?: string | null;
  size?: number | null;
  lastModifiedDateTime?: string | null;
  lastModifiedBy?: { user?: { displayName?: string | null; email?: string | null } | null } | null;
  parentReference?: { path?: string | null } | null;
  file?: { mimeType?: string | null } | null;
  folder?: { childCount?: number | null } | null;
}

const SELECT =
  'id,name,webUrl,size,lastModifiedDateTime,lastModifiedBy,parentReference,file,folder';

/** The folder of an item as a readable path: Graph's `/drive/root:/Reports` becomes `/Reports`. */
function folderOf(path: string | null | undefined): string | null {
  if (!path) return null;
  const below = path.replace(/^\/drives?\/[^/]*\/?root:|^\/drive\/root:/i, '');
  return below === '' ? '/' : below;
}

/** `search_files`: the signed-in user's OneDrive, searched (`GET /me/drive/root/search(q='…')`). */
export const searchFiles = defineTool({
  name: 'search_files',
  title: 'Search my files',
  description:
    "Searches the signed-in user's OneDrive for files and folders whose name, content or metadata match the query: name, whether it is a file or folder, its folder path, size, type, last change and who made it, and a link that opens it in the browser. File contents are not returned. Returns at most `top` items (default 10, max 25); when more exist the result has nextPageToken, which you pass back as pageToken for the next page.",
  kind: 'read',
  scopes: ['Files.Read'],
  annotations: READ_GRAPH_HINTS,
  input: z.strictObject({
    query: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Words to look for, e.g. "budget Q3"; required unless pageToken is given'),
    top: z.number().int().min(1).max(25).default(10).describe('Items per page, 1–25 (default 10)'),
    pageToken: pageTokenInput.optional(),
  }),
  output: z.object({
    items: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        kind: z.enum(['file', 'folder']),
        folder: z.string().nullable().describe('Path of the containing folder, e.g. /Reports'),
        size: z.number().nullable().describe('Bytes'),
        mimeType: z.string().nullable(),
        lastModifiedDateTime: z.string().nullable().describe('ISO 8601 UTC'),
        lastModifiedBy: z.string().nullable().describe('Name of who changed it last'),
        webUrl: z.string().nullable().describe('Opens the item in the browser'),
      }),
    ),
    nextPageToken: nextPageTokenOutput,
  }),
  async run(input, ctx) {
    const page = await readPage<GraphDriveItem>(ctx, 'search_files', input.pageToken, {
      // Only the signed-in user's own drive, searched with one OData string literal.
      resource: /^\/me\/drive\/root\/search\(q='(?:[^']|'')*'\)$/i,
      first: () => {
        const query = firstPageQuery('search_files', input.query);
        // The literal goes in the path: quotes doubled for OData, then percent-encoded so
        // that '#', '?', '/' or '%' in the query stay part of it.
        return {
          path: `/me/drive/root/search(q=${encodeURIComponent(odataString(query))})`,
          query: { $top: input.top, $select: SELECT },
        };
      },
    });
    const items = page.items.map((item) => ({
      id: item.id,
      name: item.name ?? '',
      kind: item.folder ? ('folder' as const) : ('file' as const),
      folder: folderOf(item.parentReference?.path),
      size: item.size ?? null,
      mimeType: item.file?.mimeType ?? null,
      lastModifiedDateTime: item.lastModifiedDateTime ?? null,
      lastModifiedBy:
        item.lastModifiedBy?.user?.displayName ?? item.lastModifiedBy?.user?.email ?? null,
      webUrl: item.webUrl ?? null,
    }));
    return { items, ...page.more };
  },
});
