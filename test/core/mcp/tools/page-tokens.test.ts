import { expect, it } from 'vitest';
import { listMessages } from '../../../../main/core/mcp/tools/list-messages.ts';
import { listEvents } from '../../../../main/core/mcp/tools/list-events.ts';
import { searchPeople } from '../../../../main/core/mcp/tools/search-people.ts';
import { graph, ok, refused, useToolFixture } from './tool-fixture.ts';

useToolFixture();

it('page tokens that climb out of the Graph base path, plainly or percent-encoded, are refused before Graph', async () => {
  const before = graph.requests.length;
  const first = await ok(listMessages, { top: 1 });
  const { origin } = new URL(graph.url);
  const climbing = [
    `${graph.url}/../beta/me/messages?$skip=1`,
    `${graph.url}/%2e%2e/beta/me/messages?$skip=1`,
    `${graph.url}/%2E%2e/beta/me/messages?$skip=1`,
    `${graph.url}/me/%2e%2E/%2E%2E/beta/me/messages?$skip=1`,
    `${graph.url}/%2e%2e%2fbeta/me/messages?$skip=1`,
    `${graph.url}/me%2F..%2F..%2Fbeta%2Fme/messages?$skip=1`,
    `${graph.url}/me/..%5c..%5Cbeta/me/messages?$skip=1`,
    `${origin}/v1.0\\..\\beta/me/messages?$skip=1`,
  ];
  for (const pageToken of climbing) {
    expect(await refused(listMessages, { pageToken }), pageToken).toBe(
      'That pageToken is not a next page of list_messages: pass the nextPageToken of the previous list_messages result unchanged, or leave pageToken out to start again',
    );
    const people = pageToken.replace('/me/messages', '/me/people');
    expect(await refused(searchPeople, { pageToken: people }), people).toContain(
      'not a next page of search_people',
    );
    const events = pageToken.replace('/me/messages', '/me/calendarView');
    expect(await refused(listEvents, { pageToken: events }), events).toContain(
      'not a next page of list_events',
    );
  }
  // The token it did hand out still works.
  expect((await ok(listMessages, { pageToken: first.nextPageToken })).messages).toHaveLength(1);
  expect(graph.requests.length - before).toBe(2);
});
