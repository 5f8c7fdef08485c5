import { expect, it } from 'vitest';
import { searchFiles } from '../../../../main/core/mcp/tools/search-files.ts';
import {
  alex,
  graph,
  seed,
  ok,
  refused,
  graphCalls,
  ids,
  allPages,
  useToolFixture,
} from './tool-fixture.ts';

useToolFixture();

it('search_files finds files by name or folder, pages, and survives quotes and URL characters', async () => {
  const file = seed.driveItems.find((i) => i.file)!;
  const word = file.name
    .split(/[\s._-]+/)
    .find((w) => w.length > 3)!
    .toLowerCase();
  const folders = new Map(seed.driveItems.filter((i) => i.folder).map((i) => [i.id, i.name]));
  const expected = seed.driveItems
    .filter((i) =>
      `${i.name} ${folders.get(i.parentReference.id) ?? ''}`.toLowerCase().includes(word),
    )
    .sort((a, b) => b.lastModifiedDateTime.localeCompare(a.lastModifiedDateTime));
  const found = await allPages(searchFiles, { query: word, top: 1 }, (p) => p.items);
  expect(ids(found.items)).toEqual(ids(expected));
  const first = await ok(searchFiles, { query: file.name });
  expect(first.items[0]).toEqual({
    id: file.id,
    name: file.name,
    kind: 'file',
    folder: file.parentReference.path.replace('/drive/root:', ''),
    size: file.size,
    mimeType: file.file!.mimeType,
    lastModifiedDateTime: file.lastModifiedDateTime,
    lastModifiedBy: file.lastModifiedBy.user.displayName,
    webUrl: file.webUrl,
  });
  for (const query of ["O'Brien's plan", 'Q3 #1?', 'a/b 100%', "')"]) {
    expect((await ok(searchFiles, { query })).items).toEqual([]);
  }
  expect(graphCalls('GET', "/v1.0/me/drive/root/search(q='O''Brien''s plan')")).toHaveLength(1);
  expect(await refused(searchFiles, { query: '' })).toMatch(
    /^Invalid arguments for search_files: query: /,
  );
  expect(await refused(searchFiles, {})).toBe(
    'Invalid arguments for search_files: query is required (or pageToken, for a next page)',
  );
  expect(await refused(searchFiles, { pageToken: `${graph.url}/me/people?$skip=1` })).toContain(
    'not a next page of search_files',
  );
});

it("search_files takes only page tokens of the user's own drive search, nothing around or after it", async () => {
  // A word in the names of several items, so that there is a second page.
  const names = seed.driveItems.map((i) => i.name.toLowerCase());
  const word = names
    .flatMap((n) => n.split(/[\s._-]+/))
    .find((w) => w.length > 3 && names.filter((n) => n.includes(w)).length > 1)!;
  const first = await ok(searchFiles, { query: word, top: 1 });
  expect(first.nextPageToken).toBeDefined();
  const own = new URL(first.nextPageToken!);
  const below = own.pathname.slice(new URL(graph.url).pathname.length);
  expect(decodeURIComponent(below)).toBe(`/me/drive/root/search(q='${word}')`);
  const before = graph.requests.length;
  for (const path of [
    `/drives/b!someone-else/root/search(q='${word}')`,
    `/drives/b!someone-else/search(q='${word}')`,
    `/sites/contoso/drives/b!team/root/search(q='${word}')`,
    `/users/${alex.id}/drive/root/search(q='${word}')`,
    `/users/${alex.id}/me/drive/root/search(q='${word}')`,
    `/me/drive/items/01ABC/search(q='${word}')`,
    `/me/drive/root/search(q='${word}')/children/search(q='x')`,
    `/me/drive/root/search(q='${word}'))`,
    `/me/drive/root/search(q=${word})`,
    `/me/drive/root/search(q='a')/../../../../users/${alex.id}/drive/root/search(q='${word}')`,
    `/me/drive/root/search(q='a%2F..%2F..%2F..%2Fdrives%2Fb!x')`,
  ]) {
    const pageToken = `${graph.url}${path}${own.search}`;
    expect(await refused(searchFiles, { pageToken }), path).toMatch(
      /not a next page of (search_files|this call)/,
    );
  }
  expect(graph.requests.length).toBe(before);
  expect((await ok(searchFiles, { pageToken: first.nextPageToken })).items).toHaveLength(1);
});
