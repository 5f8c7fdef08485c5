import { expect, it } from 'vitest';
import { listEvents } from '../../../../main/core/mcp/tools/list-events.ts';
import { createEvent } from '../../../../main/core/mcp/tools/create-event.ts';
import {
  adele,
  alex,
  DAY,
  NOW,
  ok,
  refused,
  graphCalls,
  allPages,
  useToolFixture,
} from './tool-fixture.ts';

useToolFixture();

it('create_event adds an event that a later list_events shows', async () => {
  const day = new Date(NOW.getTime() + 2 * DAY).toISOString().slice(0, 10);
  const created = await ok(createEvent, {
    subject: 'Valet planning',
    start: `${day}T10:00:00`,
    end: `${day}T10:30:00`,
    location: 'Conf Room Rainier',
    body: 'Agenda: plan the valet.',
    attendees: [alex.username],
    isOnlineMeeting: true,
  });
  expect(created).toMatchObject({
    subject: 'Valet planning',
    start: `${day}T10:00:00Z`,
    end: `${day}T10:30:00Z`,
    timeZone: 'UTC',
    location: 'Conf Room Rainier',
    organizer: { address: adele.username },
    attendees: [{ address: alex.username, type: 'required' }],
  });
  expect(created.joinUrl).toMatch(/^https:\/\/teams\.microsoft\.com\//);
  const post = graphCalls('POST', '/v1.0/me/events').at(-1);
  expect(post?.body).toMatchObject({
    start: { dateTime: `${day}T10:00:00`, timeZone: 'UTC' },
    transactionId: expect.any(String),
  });

  const listed = await allPages(
    listEvents,
    { start: `${day}T00:00:00Z`, end: `${day}T23:59:59Z`, top: 50 },
    (p) => p.events,
  );
  expect(listed.items.find((e) => e.id === created.id)).toMatchObject({
    start: `${day}T10:00:00Z`,
    end: `${day}T10:30:00Z`,
  });
});

it('create_event reads times in the given time zone, or converts ones with an offset', async () => {
  // Mid-January: Berlin is UTC+1, with no daylight saving time to think about.
  const berlin = await ok(createEvent, {
    subject: 'Winter review',
    start: '2031-01-15T10:00:00',
    end: '2031-01-15T11:00:00+01:00',
    timeZone: 'Europe/Berlin',
  });
  expect(berlin).toMatchObject({
    start: '2031-01-15T10:00:00',
    end: '2031-01-15T11:00:00',
    timeZone: 'Europe/Berlin',
  });
  const listed = await ok(listEvents, {
    start: '2031-01-15T00:00:00Z',
    end: '2031-01-16T00:00:00Z',
  });
  expect(listed.events.map((e) => [e.id, e.start, e.end])).toEqual([
    [berlin.id, '2031-01-15T09:00:00Z', '2031-01-15T10:00:00Z'],
  ]);
});

it('create_event refuses an end before its start or an unknown time zone, creating nothing', async () => {
  const before = graphCalls('POST', '/v1.0/me/events').length;
  expect(
    await refused(createEvent, {
      subject: 'x',
      start: '2031-01-15T10:00:00',
      end: '2031-01-15T10:00:00',
    }),
  ).toBe('Invalid arguments for create_event: end must be after start');
  expect(
    await refused(createEvent, {
      subject: 'x',
      start: '2031-01-15T10:00:00Z',
      end: '2031-01-15T10:30:00+01:00',
    }),
  ).toContain('end must be after start');
  expect(
    await refused(createEvent, {
      subject: 'x',
      start: '2031-01-15T10:00:00',
      end: '2031-01-15T11:00:00',
      timeZone: 'Mars/Olympus',
    }),
  ).toContain('timeZone: must be an IANA time zone name');
  expect(
    await refused(createEvent, {
      subject: 'x',
      start: 'tomorrow 10am',
      end: '2031-01-15T11:00:00',
    }),
  ).toMatch(/start: Start must be an ISO 8601 date-time/);
  expect(
    await refused(createEvent, {
      subject: 'x',
      start: '2031-01-15T10:00:00',
      end: '2031-01-15T11:00:00',
      attendees: ['bob'],
    }),
  ).toContain('attendees.0');
  expect(graphCalls('POST', '/v1.0/me/events')).toHaveLength(before);
});
