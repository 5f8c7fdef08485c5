import { createHash } from 'node:crypto';
import type { DriveItem, IdentitySet } from '../model.ts';
import { fill } from './context.ts';
import type { SeedContext } from './context.ts';
import { FILE_NAMES, FOLDERS } from './pools.ts';
import { driveItemId } from './random.ts';
import { DAY, MINUTE, utcStamp } from './time.ts';

const FILE_COUNT = 12;

const MIME_TYPES: Record<string, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  vsdx: 'application/vnd.ms-visio.drawing',
  pdf: 'application/pdf',
  one: 'application/msonenote',
  zip: 'application/x-zip-compressed',
};

function mimeTypeOf(name: string): string {
  return MIME_TYPES[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}

/** The user's OneDrive: a few folders under the root and files in them. */
export function seedDriveItems(ctx: SeedContext): DriveItem[] {
  const { random, user } = ctx;
  const key = user.id.toLowerCase();
  const driveId = `b!${createHash('sha256').update(`drive:${key}`).digest('base64url').slice(0, 40)}`;
  const rootId = driveItemId(key, 'root');
  const site = `https://${ctx.company.toLowerCase()}-my.sharepoint.com`;
  const personal = `${site}/personal/${user.username.toLowerCase().replace(/[@.]/g, '_')}/Documents`;
  const identity = (who: { name: string; address: string }): IdentitySet => ({
    user: { email: who.address, displayName: who.name },
  });
  const stamp = (ageDays: number): string =>
    utcStamp(Math.floor((ctx.now - ageDays * DAY) / MINUTE) * MINUTE - random.int(0, 3600) * 1000);
  const tag = (id: string, kind: 'eTag' | 'cTag'): string =>
    `"${kind === 'eTag' ? '{' : 'c:{'}${id.slice(2, 10)}-${id.slice(10, 14)}-${id.slice(14, 18)}-${id.slice(18, 22)}-${id.slice(22, 34)}},1"`;

  const files = random.shuffle(FILE_NAMES).slice(0, FILE_COUNT);
  const folders = FOLDERS.map((name) => ({
    name,
    id: driveItemId(key, 'folder', name),
    files: [] as string[],
  }));
  for (const name of files) random.pick(folders).files.push(name);

  const items: DriveItem[] = [];
  for (const folder of folders) {
    const created = stamp(random.int(60, 400));
    items.push({
      id: folder.id,
      name: folder.name,
      size: 0,
      webUrl: `${personal}/${encodeURIComponent(folder.name)}`,
      createdDateTime: created,
      lastModifiedDateTime: created,
      eTag: tag(folder.id, 'eTag'),
      cTag: tag(folder.id, 'cTag'),
      createdBy: identity(ctx.self),
      lastModifiedBy: identity(ctx.self),
      parentReference: { driveId, driveType: 'business', id: rootId, path: '/drive/root:' },
      folder: { childCount: folder.files.length },
      searchResult: {},
    });
    for (const template of folder.files) {
      const name = fill(template, random.pick(ctx.projects), ctx.quarter);
      const id = driveItemId(key, 'file', name);
      const ageDays = random.int(0, 90);
      const editor = random.chance(0.6) ? ctx.self : random.pick(ctx.colleagues).email;
      items.push({
        id,
        name,
        size: random.int(12_000, 4_800_000),
        webUrl: `${personal}/${encodeURIComponent(folder.name)}/${encodeURIComponent(name)}`,
        createdDateTime: stamp(ageDays + random.int(1, 30)),
        lastModifiedDateTime: stamp(ageDays),
        eTag: tag(id, 'eTag'),
        cTag: tag(id, 'cTag'),
        createdBy: identity(ctx.self),
        lastModifiedBy: identity(editor),
        parentReference: {
          driveId,
          driveType: 'business',
          id: folder.id,
          path: `/drive/root:/${folder.name}`,
        },
        file: { mimeType: mimeTypeOf(name) },
        searchResult: {},
      });
    }
  }
  return items;
}
