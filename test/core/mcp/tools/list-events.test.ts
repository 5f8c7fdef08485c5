import { expect, it } from 'vitest';
import { listEvents } from '../../../../main/core/mcp/tools/list-events.ts';
import {
  DAY,
  NOW,
  ok,
  refused,
  utc,
  eventMs,
  ids,
  eventsIn,
  allPages,
  useToolFixture,
} from './tool-fixture.ts';

useToolFixture();

it('list_events shows the next 7 days by default, in UTC, earliest first', async () => {
  const from = Math.floor(NOW.getTime() / 1000) * 1000;
  const expected = eventsIn(from, from + 7 * DAY);
  const all = await allPages(listEvents, { top: 3 }, (p) => p.events);
  expect(ids(all.items)).toEqual(ids(expected));
  const first = await ok(listEvents, { top: 1 });
  expect(first.window).toEqual({ start: utc(from), end: utc(from + 7 * DAY) });
  const seeded = expected[0]!;
  expect(first.events[0]).toMatchObject({
    id: seeded.id,
    subject: seeded.subject,
    start: utc(eventMs(seeded.start)),
    end: utc(eventMs(seeded.end)),
    organizer: seeded.organizer.emailAddress,
    attendeeCount: seeded.attendees.length,
    location: seeded.location.displayName || null,
  });
  const second = await ok(listEvents, { pageToken: first.nextPageToken });
  expect(second.window).toEqual(first.window);
});

it('list_events takes an explicit window and refuses bad ones', async () => {
  const start = Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate()) - 14 * DAY;
  const end = start + 36 * DAY;
  const all = await allPages(
    listEvents,
    { start: utc(start), end: utc(end), top: 50 },
    (p) => p.events,
  );
  expect(ids(all.items)).toEqual(ids(eventsIn(start, end)));
  expect(all.items.map((e) => e.subject)).toContain('Company holiday');

  expect(await refused(listEvents, { start: utc(end), end: utc(start) })).toBe(
    'Invalid arguments for list_events: end must be after start',
  );
  expect(await refused(listEvents, { end: utc(start) })).toBe(
    'Invalid arguments for list_events: end must be after start (start defaults to now)',
  );
  expect(await refused(listEvents, { start: utc(start), end: utc(start + 63 * DAY) })).toContain(
    'at most 62 days',
  );
  expect(await refused(listEvents, { start: 'next monday' })).toMatch(
    /^Invalid arguments for list_events: start: /,
  );
  expect(await refused(listEvents, { top: 51 })).toMatch(
    /^Invalid arguments for list_events: top: /,
  );
});
