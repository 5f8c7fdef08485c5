import { z } from 'zod';
import { defineTool, READ_GRAPH_HINTS } from '../tool-definition.ts';
import { eventTime, type GraphDateTime } from './event-time.ts';
import { addressOf, mailAddressOutput, type GraphRecipient } from './mail-address.ts';
import { odataDateTime } from './odata-text.ts';
import { nextPageTokenOutput, pageTokenInput, readPage } from './paging.ts';
import { instantInput, invalidArguments } from './tool-input.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The default window: the next week. */
const DEFAULT_DAYS = 7;
/** The longest window one call may cover; longer ones are slow and rarely what was meant. */
const MAX_DAYS = 62;
/** Attendees listed per event; `attendeeCount` gives the total. */
const MAX_ATTENDEES = 20;

interface GraphEventItem {
  id: string;
  subject?: string | null;
  start?: GraphDateTime | null;
  end?: GraphDateTime | null;
  isAllDay?: boolean;
  isCancelled?: boolean;
  location?: { displayName?: string | null } | null;
  organizer?: GraphRecipient | null;
  attendees?: Array<GraphRecipient & { type?: string; status?: { response?: string } | null }>;
  isOnlineMeeting?: boolean;
  onlineMeeting?: { joinUrl?: string | null } | null;
  showAs?: string | null;
  bodyPreview?: string | null;
  webLink?: string | null;
}

const SELECT =
  'id,subject,start,end,isAllDay,isCancelled,location,organizer,attendees,isOnlineMeeting,onlineMeeting,showAs,bodyPreview,webLink';

/** Output: one calendar event. */
export const eventOutput = z.object({
  id: z.string(),
  subject: z.string(),
  start: z.string().nullable().describe('ISO 8601; ends in Z when in UTC'),
  end: z.string().nullable().describe('ISO 8601; ends in Z when in UTC'),
  isAllDay: z.boolean(),
  isCancelled: z.boolean(),
  location: z.string().nullable(),
  organizer: mailAddressOutput.nullable(),
  attendees: z
    .array(
      mailAddressOutput.extend({ type: z.string().nullable(), response: z.string().nullable() }),
    )
    .describe(`First ${MAX_ATTENDEES} attendees, with required/optional and their response`),
  attendeeCount: z.number().int(),
  joinUrl: z.string().nullable().describe('Online meeting link (Teams), when there is one'),
  showAs: z.string().nullable().describe('free, tentative, busy, oof or workingElsewhere'),
  preview: z.string().describe('Start of the description as text'),
  webLink: z.string().nullable().describe('Opens the event in Outlook on the web'),
});

/** Trims a Graph event to what a model needs. */
export function toEvent(e: GraphEventItem): z.infer<typeof eventOutput> {
  return {
    id: e.id,
    subject: e.subject ?? '',
    start: eventTime(e.start),
    end: eventTime(e.end),
    isAllDay: e.isAllDay ?? false,
    isCancelled: e.isCancelled ?? false,
    location: e.location?.displayName || null,
    organizer: addressOf(e.organizer),
    attendees: (e.attendees ?? []).slice(0, MAX_ATTENDEES).map((a) => ({
      name: a.emailAddress?.name || null,
      address: a.emailAddress?.address || null,
      type: a.type ?? null,
      response: a.status?.response ?? null,
    })),
    attendeeCount: e.attendees?.length ?? 0,
    joinUrl: e.onlineMeeting?.joinUrl ?? null,
    showAs: e.showAs ?? null,
    preview: e.bodyPreview ?? '',
    webLink: e.webLink ?? null,
  };
}

/** `list_events`: the signed-in user's calendar in a time window (`GET /me/calendarView`). */
export const listEvents = defineTool({
  name: 'list_events',
  title: 'List my calendar',
  description: `Lists the events of the signed-in user's calendar that overlap a time window, earliest first, with recurring meetings expanded into their occurrences: subject, start and end (UTC), location, organizer, attendees and their responses, online meeting link and an Outlook link. The window defaults to now through the next ${DEFAULT_DAYS} days and may span at most ${MAX_DAYS} days. Returns at most \`top\` events (default 10, max 50); when more exist the result has nextPageToken, which you pass back as pageToken for the next page.`,
  kind: 'read',
  scopes: ['Calendars.Read'],
  annotations: READ_GRAPH_HINTS,
  input: z.strictObject({
    start: instantInput('Start of the window (default: now)').optional(),
    end: instantInput(`End of the window (default: start + ${DEFAULT_DAYS} days)`).optional(),
    top: z.number().int().min(1).max(50).default(10).describe('Events per page, 1–50 (default 10)'),
    pageToken: pageTokenInput.optional(),
  }),
  output: z.object({
    window: z
      .object({ start: z.string(), end: z.string() })
      .describe('The window searched, ISO 8601 UTC'),
    events: z.array(eventOutput),
    nextPageToken: nextPageTokenOutput,
  }),
  async run(input, ctx) {
    const window = input.pageToken ? windowOf(input.pageToken) : requestedWindow(input, ctx.now());
    const page = await readPage<GraphEventItem>(ctx, 'list_events', input.pageToken, {
      resource: /^\/me\/(calendar\/)?calendarview$/i,
      first: () => ({
        path: '/me/calendarView',
        query: {
          startDateTime: window.start,
          endDateTime: window.end,
          $top: input.top,
          $orderby: 'start/dateTime',
          $select: SELECT,
        },
      }),
      // Graph answers in UTC when asked, so every time in the result compares directly.
      headers: { prefer: 'outlook.timezone="UTC"' },
    });
    return { window, events: page.items.map(toEvent), ...page.more };
  },
});

/** The window a first page asks for, checked: by default the next week. */
function requestedWindow(input: { start?: string; end?: string }, now: Date) {
  const start = input.start ? new Date(input.start) : now;
  const end = input.end ? new Date(input.end) : new Date(start.getTime() + DEFAULT_DAYS * DAY_MS);
  if (end <= start) {
    throw invalidArguments(
      'list_events',
      `end must be after start${input.start ? '' : ' (start defaults to now)'}`,
    );
  }
  if (end.getTime() - start.getTime() > MAX_DAYS * DAY_MS) {
    throw invalidArguments(
      'list_events',
      `the window may span at most ${MAX_DAYS} days; make several calls for a longer period`,
    );
  }
  return { start: odataDateTime(start), end: odataDateTime(end) };
}

/**
 * The window a next-page link carries (Graph keeps startDateTime and endDateTime in it).
 * A token that is no URL gets an empty one: readPage refuses it before Graph is called.
 */
function windowOf(link: string): { start: string; end: string } {
  if (!URL.canParse(link)) return { start: '', end: '' };
  const params = new Map([...new URL(link).searchParams].map(([k, v]) => [k.toLowerCase(), v]));
  return { start: params.get('startdatetime') ?? '', end: params.get('enddatetime') ?? '' };
}
