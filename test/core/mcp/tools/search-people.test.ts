import { expect, it } from 'vitest';
import { searchPeople } from '../../../../main/core/mcp/tools/search-people.ts';
import { graph, seed, ok, graphCalls, ids, allPages, useToolFixture } from './tool-fixture.ts';

useToolFixture();

it('search_people finds colleagues by the start of a name, most relevant first', async () => {
  const person = seed.people[1]!;
  const prefix = person.givenName.slice(0, 3).toLowerCase();
  const expected = seed.people.filter((p) =>
    [
      ...p.displayName.toLowerCase().split(/[\s.'-]+/),
      ...p.scoredEmailAddresses.map((e) => e.address.toLowerCase()),
    ].some((w) => w.startsWith(prefix)),
  );
  const found = await allPages(searchPeople, { query: prefix, top: 1 }, (p) => p.people);
  expect(ids(found.items)).toEqual(ids(expected));
  const exact = await ok(searchPeople, { query: person.displayName });
  expect(exact.people[0]).toMatchObject({
    id: person.id,
    displayName: person.displayName,
    emailAddresses: [person.scoredEmailAddresses[0]!.address],
    jobTitle: person.jobTitle,
    department: person.department,
    kind: 'OrganizationUser',
  });
  expect((await ok(searchPeople, { query: 'say "hi"' })).people).toEqual([]);
  expect(graphCalls('GET', '/v1.0/me/people').at(-1)?.query.$search).toBe('"say \\"hi\\""');
});

it('a throttled call is retried and the tool still answers', async () => {
  graph.inject({ path: '/v1.0/me/people', status: 429, retryAfterSeconds: 0 });
  const found = await ok(searchPeople, { query: seed.people[0]!.givenName });
  expect(found.people[0]?.id).toBe(seed.people[0]!.id);
});
