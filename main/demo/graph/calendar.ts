import { instantOf, parseDateTime } from './date-times.ts';
import type { HandlerContext, Route } from './endpoint.ts';
import { segments } from './endpoint.ts';
import { badRequest, GraphError, itemNotFound } from './errors.ts';
import { createEvent } from './event-create.ts';
import { eventTimeMs } from './event-items.ts';
import type { Reply } from './http.ts';
import type { GraphEvent } from './model.ts';
import { contextUrl, page, project } from './odata.ts';
import { SCOPES } from './scopes.ts';

/** Event properties `$select` accepts. */
export const EVENT_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'iCalUId',
  'reminderMinutesBeforeStart',
  'isReminderOn',
  'hasAttachments',
  'subject',
  'bodyPreview',
  'importance',
  'sensitivity',
  'isAllDay',
  'isCancelled',
  'isOrganizer',
  'responseRequested',
  'showAs',
  'type',
  'webLink',
  'onlineMeetingUrl',
  'isOnlineMeeting',
  'onlineMeetingProvider',
  'responseStatus',
  'body',
  'start',
  'end',
  'location',
  'locations',
  'attendees',
  'organizer',
  'onlineMeeting',
] as const;

/** Graph returns these even when `$select` leaves them out. */
export const EVENT_ALWAYS = ['@odata.etag', 'id'];

const LIST_OPTIONS = ['$top', '$skip', '$select', '$orderby', '$count'];

type EventOrder = (a: GraphEvent, b: GraphEvent) => number;

function parseEventOrder(raw: string | undefined): EventOrder {
  const terms = (raw ?? 'start/dateTime asc').split(',').map((term) => {
    const [name = '', direction = 'asc', extra] = term.trim().split(/\s+/);
    const key = name.toLowerCase();
    if (
      !['start/datetime', 'end/datetime', 'subject'].includes(key) ||
      extra !== undefined ||
      !/^(asc|desc)$/i.test(direction)
    ) {
      throw badRequest(
        `The $orderby expression '${term.trim()}' is not supported. Sort by start/dateTime, end/dateTime or subject.`,
      );
    }
    const read = (event: GraphEvent): string | number =>
      key === 'subject'
        ? event.subject
        : eventTimeMs(key === 'end/datetime' ? event.end : event.start);
    return { read, sign: direction.toLowerCase() === 'desc' ? -1 : 1 };
  });
  return (a, b) => {
    for (const { read, sign } of terms) {
      const x = read(a);
      const y = read(b);
      if (x !== y) return sign * (x < y ? -1 : 1);
    }
    return 0;
  };
}

function windowBound(ctx: HandlerContext, name: 'StartDateTime' | 'EndDateTime'): number {
  const raw = ctx.query.get(name.toLowerCase());
  if (raw === undefined || raw.trim() === '') {
    throw new GraphError(
      400,
      'ErrorInvalidParameter',
      'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
    );
  }
  const parsed = parseDateTime(raw);
  if (!parsed)
    throw new GraphError(
      400,
      'ErrorInvalidParameter',
      `The value '${raw}' of parameter '${name}' is invalid.`,
    );
  return instantOf(parsed);
}

function listEvents(ctx: HandlerContext, items: GraphEvent[], path: string): Reply {
  const { query, root, userId } = ctx;
  const select = query.select(EVENT_PROPERTIES, 'microsoft.graph.event');
  const sorted = [...items].sort(parseEventOrder(query.get('$orderby')));
  return {
    status: 200,
    body: page({
      items: sorted,
      top: query.top(10, 1000),
      skip: query.skip(),
      count: query.count(),
      context: contextUrl(root, `users('${userId}')/${path}`, select),
      nextLink: (skip) => query.withOption('$skip', String(skip)),
      shape: (event) => project(event, select, EVENT_ALWAYS),
    }),
  };
}

function calendarView(ctx: HandlerContext): Reply {
  const start = windowBound(ctx, 'StartDateTime');
  const end = windowBound(ctx, 'EndDateTime');
  // Overlap, as Graph's calendarView: an event running across a window edge is included.
  const inWindow = ctx.data.events.filter(
    (event) => eventTimeMs(event.start) < end && eventTimeMs(event.end) > start,
  );
  return listEvents(ctx, inWindow, 'calendarView');
}

const calendarViewEndpoint = {
  scope: SCOPES.readCalendar,
  options: LIST_OPTIONS,
  handle: calendarView,
};

/** `GET /me/calendarView`, `GET /me/events[/{id}]` and `POST /me/events`. */
export const calendarRoutes: Route[] = [
  { match: segments('me', 'calendarView'), methods: { GET: calendarViewEndpoint } },
  { match: segments('me', 'calendar', 'calendarView'), methods: { GET: calendarViewEndpoint } },
  {
    match: segments('me', 'events'),
    methods: {
      GET: {
        scope: SCOPES.readCalendar,
        options: LIST_OPTIONS,
        handle: (ctx) => listEvents(ctx, ctx.data.events, 'events'),
      },
      POST: { scope: SCOPES.writeCalendar, options: [], body: true, handle: createEvent },
    },
  },
  {
    match: segments('me', 'events', '*'),
    methods: {
      GET: {
        scope: SCOPES.readCalendar,
        options: ['$select'],
        handle: ({ data, query, root, userId, params }) => {
          const event = data.events.find((item) => item.id === params[0]);
          if (!event) throw itemNotFound();
          const select = query.select(EVENT_PROPERTIES, 'microsoft.graph.event');
          return {
            status: 200,
            body: {
              '@odata.context': contextUrl(root, `users('${userId}')/events`, select, '/$entity'),
              ...project(event, select, EVENT_ALWAYS),
            },
          };
        },
      },
    },
  },
];
