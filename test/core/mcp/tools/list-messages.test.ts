import { expect, it } from 'vitest';
import { listMessages } from '../../../../main/core/mcp/tools/list-messages.ts';
import { listEvents } from '../../../../main/core/mcp/tools/list-events.ts';
import { messageSearch } from '../../../../main/demo/graph/message-query.ts';
import {
  adele,
  DAY,
  NOW,
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

it('list_messages pages through the whole mailbox, newest first, as the seed has it', async () => {
  const first = await ok(listMessages, { top: 5 });
  const expected = seed.messages.slice(0, 5);
  expect(
    first.messages.map((m) => [m.id, m.subject, m.from?.address, m.receivedDateTime, m.isRead]),
  ).toEqual(
    expected.map((m) => [
      m.id,
      m.subject,
      m.from.emailAddress.address,
      m.receivedDateTime,
      m.isRead,
    ]),
  );
  expect(first.messages[0]).toMatchObject({
    preview: expected[0]!.bodyPreview,
    webLink: expected[0]!.webLink,
    toCount: 1,
  });
  expect(first.messages[0]!.to).toEqual([{ name: adele.name, address: adele.username }]);
  expect(first.nextPageToken).toBeDefined();
  const second = await ok(listMessages, { pageToken: first.nextPageToken });
  expect(ids(second.messages)).toEqual(ids(seed.messages.slice(5, 10)));
  const all = await allPages(listMessages, { top: 15 }, (p) => p.messages);
  expect(ids(all.items)).toEqual(ids(seed.messages));
  expect(all.pages).toBe(Math.ceil(seed.messages.length / 15));
  // The runner asked Graph for Mail.Read only; the stand-in saw the user's own token.
  const seen = graphCalls('GET', '/v1.0/me/messages').at(-1);
  expect(seen).toMatchObject({ userId: adele.id, status: 200 });
});

it('list_messages filters unread, since and sender the way Graph accepts', async () => {
  const unread = await ok(listMessages, { unreadOnly: true, top: 50 });
  expect(ids(unread.messages)).toEqual(ids(seed.messages.filter((m) => !m.isRead)));
  expect(unread.messages.length).toBeGreaterThan(0);

  const sinceMs = NOW.getTime() - 7 * DAY;
  const recent = await ok(listMessages, { since: new Date(sinceMs).toISOString(), top: 50 });
  expect(ids(recent.messages)).toEqual(
    ids(
      seed.messages.filter(
        (m) => Date.parse(m.receivedDateTime) >= Math.floor(sinceMs / 1000) * 1000,
      ),
    ),
  );

  const sender = seed.messages[0]!.from.emailAddress.address;
  const fromOne = await ok(listMessages, {
    from: sender,
    unreadOnly: true,
    since: '2000-01-01T00:00:00+01:00',
    top: 50,
  });
  expect(ids(fromOne.messages)).toEqual(
    ids(seed.messages.filter((m) => m.from.emailAddress.address === sender && !m.isRead)),
  );
  const [query] = graphCalls('GET', '/v1.0/me/messages')
    .slice(-1)
    .map((r) => r.query);
  expect(query).toMatchObject({
    $filter: `receivedDateTime ge 1999-12-31T23:00:00Z and isRead eq false and from/emailAddress/address eq '${sender}'`,
    $orderby: 'receivedDateTime desc',
  });

  // A quote in an address is valid and must not break out of the OData string.
  const quoted = await ok(listMessages, { from: "o'brien@contoso.test" });
  expect(quoted.messages).toEqual([]);
});

it('list_messages searches with $search alone, and pages the results', async () => {
  const word = seed.messages[0]!.subject.split(/\s+/)
    .find((w) => w.length > 4)!
    .toLowerCase();
  const expected = seed.messages.filter(messageSearch(word));
  const found = await allPages(listMessages, { search: word, top: 2 }, (p) => p.messages);
  expect(ids(found.items)).toEqual(ids(expected));
  expect(graphCalls('GET', '/v1.0/me/messages').at(-1)?.query).not.toHaveProperty('$filter');
  const odd = await ok(listMessages, { search: 'say "hi" \\ there' });
  expect(odd.messages).toEqual([]);
});

it('list_messages rejects bad arguments and foreign page tokens before calling Graph', async () => {
  const before = graph.requests.length;
  for (const [args, problem] of [
    [{ top: 0 }, 'top'],
    [{ top: 51 }, 'top'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: '2025-03-01T00:00:00' }, 'since'],
    [{ from: 'not-an-address' }, 'from'],
    [{ search: 'x'.repeat(201) }, 'search'],
    [{ search: 'budget', unreadOnly: true }, 'search cannot be combined'],
    [{ folder: 'inbox' }, 'folder'],
    ['all of them', 'arguments'],
  ] as const) {
    const text = await refused(listMessages, args);
    expect(text).toMatch(/^Invalid arguments for list_messages: /);
    expect(text).toContain(problem);
  }
  const events = await ok(listEvents, { top: 1 });
  expect(await refused(listMessages, { pageToken: events.nextPageToken })).toBe(
    'That pageToken is not a next page of list_messages: pass the nextPageToken of the previous list_messages result unchanged, or leave pageToken out to start again',
  );
  expect(await refused(listMessages, { pageToken: 'page 2' })).toContain(
    'not a next page of list_messages',
  );
  expect(
    await refused(listMessages, {
      pageToken: 'https://graph.example.net/v1.0/me/messages?$skip=10',
    }),
  ).toBe(
    'That page link does not belong to Microsoft Graph: use the nextPageToken returned by the previous call',
  );
  // Only list_events' own first page reached Graph.
  expect(graph.requests.length - before).toBe(1);
});
