import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineTool, WRITE_GRAPH_HINTS } from '../tool-definition.ts';
import { preview, urlLines, visible } from './approval-text.ts';
import { isTimeZone, wallClock, type GraphDateTime } from './event-time.ts';
import { eventOutput, toEvent } from './list-events.ts';
import { textUrls } from './mail-urls.ts';
import { emailInput, invalidArguments } from './tool-input.ts';

const MAX_ATTENDEES = 50;
/** How much of the description the approval prompt shows before it says what it cut. */
const BODY_SHOWN = { lines: 10, chars: 1_000 };

const timeInput = (what: string) =>
  z.iso
    .datetime({
      local: true,
      offset: true,
      error: `${what} must be an ISO 8601 date-time, e.g. 2025-03-14T09:30:00`,
    })
    .describe(
      `${what}: ISO 8601 date-time, e.g. 2025-03-14T09:30:00 (in timeZone), or with Z or an offset`,
    );

/** A date-time in `zone` as Graph's wall-clock form: one with an offset is converted, one without is taken as is. */
function inZone(value: string, zone: string): string {
  if (/(z|[+-]\d{2}:?\d{2})$/i.test(value)) return wallClock(Date.parse(value), zone);
  const [date, time = ''] = value.split('T');
  return `${date}T${time.slice(0, 8)}`;
}

/** `create_event`: adds an event to the signed-in user's calendar and invites attendees (`POST /me/events`). */
export const createEvent = defineTool({
  name: 'create_event',
  title: 'Create a calendar event',
  description: `Creates an event in the signed-in user's default calendar, organised by them. When attendees are given, Outlook sends them invitations: only call it when the user asked for this event. It may wait until the user approves it in MCP Valet. start and end are date-times in timeZone (an IANA name such as Europe/Berlin; default UTC); end must be after start. At most ${MAX_ATTENDEES} attendees, as email addresses (use search_people to find one). Returns the created event with its id and link.`,
  kind: 'write',
  scopes: ['Calendars.ReadWrite'],
  annotations: WRITE_GRAPH_HINTS,
  // Unknown arguments are dropped, not refused: a client adding "approved": true gains nothing.
  input: z.object({
    subject: z.string().trim().min(1).max(255).describe('Title of the event'),
    start: timeInput('Start'),
    end: timeInput('End'),
    timeZone: z
      .string()
      .min(1)
      .max(64)
      .refine(isTimeZone, 'must be an IANA time zone name such as Europe/Berlin or UTC')
      .default('UTC')
      .describe('IANA time zone of start and end, e.g. Europe/Berlin (default UTC)'),
    location: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe('Where, e.g. a room or an address'),
    body: z.string().max(20_000).optional().describe('Description or agenda, plain text'),
    attendees: z
      .array(emailInput)
      .max(MAX_ATTENDEES)
      .optional()
      .describe('Email addresses of required attendees; they get an invitation'),
    isOnlineMeeting: z.boolean().default(false).describe('Add a Teams meeting link'),
  }),
  output: eventOutput.extend({ timeZone: z.string().describe('Time zone of start and end') }),
  describe: (input) => ({
    action: 'Create a calendar event',
    summary: [
      { label: 'Subject', value: visible(input.subject) },
      { label: 'When', value: visible(`${input.start} → ${input.end} (${input.timeZone})`) },
      ...(input.location ? [{ label: 'Where', value: visible(input.location) }] : []),
      ...(input.attendees?.length
        ? [{ label: 'Invites', value: visible(input.attendees.join(', ')) }]
        : []),
      ...(input.isOnlineMeeting ? [{ label: 'Online meeting', value: 'yes' }] : []),
      ...(input.body ? [{ label: 'Description', value: preview(input.body, BODY_SHOWN) }] : []),
      ...urlLines([...textUrls(input.location ?? ''), ...textUrls(input.body ?? '')]),
    ],
  }),
  auditArgs: (input) => ({
    start: input.start,
    end: input.end,
    timeZone: input.timeZone,
    attendees: input.attendees ?? [],
    subjectChars: input.subject.length,
  }),
  async run(input, ctx) {
    const start: GraphDateTime = {
      dateTime: inZone(input.start, input.timeZone),
      timeZone: input.timeZone,
    };
    const end: GraphDateTime = {
      dateTime: inZone(input.end, input.timeZone),
      timeZone: input.timeZone,
    };
    // Both are wall-clock times of one zone in one fixed format, so they compare as strings.
    if ((end.dateTime ?? '') <= (start.dateTime ?? ''))
      throw invalidArguments('create_event', 'end must be after start');
    const { data } = await ctx.graph<Parameters<typeof toEvent>[0]>({
      method: 'POST',
      path: '/me/events',
      body: {
        subject: input.subject,
        start,
        end,
        ...(input.body !== undefined ? { body: { contentType: 'text', content: input.body } } : {}),
        ...(input.location !== undefined ? { location: { displayName: input.location } } : {}),
        ...(input.attendees?.length
          ? {
              attendees: input.attendees.map((address) => ({
                emailAddress: { address },
                type: 'required',
              })),
            }
          : {}),
        isOnlineMeeting: input.isOnlineMeeting,
        // Graph drops a second POST with the same transactionId, so a retry cannot double-book.
        transactionId: randomUUID(),
      },
      idempotent: true,
    });
    return { ...toEvent(data), timeZone: data.start?.timeZone ?? input.timeZone };
  },
});
