import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseDateTime, resolveTimeZone, utcToZoned, zonedToUtc } from './date-times.ts';
import type { HandlerContext } from './endpoint.ts';
import { GraphError } from './errors.ts';
import { buildEvent } from './event-items.ts';
import type { Reply } from './http.ts';
import type { DateTimeTimeZone, EmailAddress, ItemBody } from './model.ts';
import { contextUrl } from './odata.ts';
import { exchangeId } from './seed/random.ts';
import { eventStamp } from './seed/time.ts';
import { bodyError, isMailAddress } from './validation.ts';

const dateTimeTimeZone = z.strictObject({ dateTime: z.string(), timeZone: z.string().optional() });
const location = z.object({ displayName: z.string().optional() }).passthrough();
const attendee = z.strictObject({
  emailAddress: z.strictObject({ address: z.string().optional(), name: z.string().optional() }),
  type: z.enum(['required', 'optional', 'resource']).optional(),
});

/** The writable properties of Graph's `event`; anything else is refused, as Graph does. */
const payload = z.strictObject({
  '@odata.type': z.string().optional(),
  subject: z.string().optional(),
  body: z
    .strictObject({
      contentType: z.enum(['text', 'html', 'Text', 'HTML']).optional(),
      content: z.string().optional(),
    })
    .optional(),
  start: dateTimeTimeZone.optional(),
  end: dateTimeTimeZone.optional(),
  location: location.optional(),
  locations: z.array(location).optional(),
  attendees: z.array(attendee).optional(),
  isOnlineMeeting: z.boolean().optional(),
  onlineMeetingProvider: z.string().optional(),
  isAllDay: z.boolean().optional(),
  showAs: z.enum(['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown']).optional(),
  importance: z.enum(['low', 'normal', 'high']).optional(),
  sensitivity: z.string().optional(),
  reminderMinutesBeforeStart: z.number().int().optional(),
  isReminderOn: z.boolean().optional(),
  categories: z.array(z.string()).optional(),
  allowNewTimeProposals: z.boolean().optional(),
  responseRequested: z.boolean().optional(),
  hideAttendees: z.boolean().optional(),
  transactionId: z.string().optional(),
  recurrence: z.unknown().optional(),
  singleValueExtendedProperties: z.unknown().optional(),
});

function typeAt(path: readonly PropertyKey[]): string {
  const last = path.at(-1);
  if (last === 'start' || last === 'end') return 'microsoft.graph.dateTimeTimeZone';
  if (last === 'emailAddress') return 'microsoft.graph.emailAddress';
  if (last === 'body') return 'microsoft.graph.itemBody';
  if (path.includes('attendees')) return 'microsoft.graph.attendee';
  return 'microsoft.graph.event';
}

interface ResolvedTime {
  utcMs: number;
  zone: string;
  timeZone: string;
}

function resolveTime(
  time: z.infer<typeof dateTimeTimeZone> | undefined,
  name: 'start' | 'end',
): ResolvedTime {
  if (!time)
    throw new GraphError(
      400,
      'ErrorInvalidRequest',
      `Your request can't be completed. The event needs a '${name}' with 'dateTime' and 'timeZone'.`,
    );
  const timeZone = time.timeZone ?? '';
  const zone = resolveTimeZone(timeZone);
  if (!zone) {
    throw new GraphError(
      400,
      'TimeZoneNotSupportedException',
      `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${timeZone}'.`,
    );
  }
  const parsed = parseDateTime(time.dateTime);
  if (!parsed)
    throw new GraphError(
      400,
      'BadRequest',
      `Cannot convert the literal '${time.dateTime}' to the expected type 'Edm.DateTimeOffset'.`,
    );
  // An explicit offset wins over the time zone, as it does in Graph.
  const utcMs =
    parsed.offsetMs === undefined
      ? zonedToUtc(parsed.wallMs, zone)
      : parsed.wallMs - parsed.offsetMs;
  return { utcMs, zone, timeZone };
}

function inZone(time: ResolvedTime): DateTimeTimeZone {
  return { dateTime: eventStamp(utcToZoned(time.utcMs, time.zone)), timeZone: time.timeZone };
}

/** `POST /me/events`: validates like Graph, stores the event (in UTC) and answers 201 in the caller's time zone. */
export function createEvent(ctx: HandlerContext): Reply {
  const parsed = payload.safeParse(ctx.body);
  if (!parsed.success) throw bodyError(parsed.error, typeAt);
  const input = parsed.data;
  if (input.subject === undefined || input.subject.trim() === '') {
    throw new GraphError(
      400,
      'ErrorInvalidRequest',
      "Your request can't be completed. The event needs a 'subject'.",
    );
  }
  if (input.recurrence !== undefined && input.recurrence !== null) {
    throw new GraphError(
      400,
      'ErrorInvalidRequest',
      'The Graph stand-in does not create recurring events.',
    );
  }
  const start = resolveTime(input.start, 'start');
  const end = resolveTime(input.end, 'end');
  if (end.utcMs < start.utcMs) {
    throw new GraphError(
      400,
      'ErrorInvalidRequest',
      "Your request can't be completed. The event's end time must not be before its start time.",
    );
  }
  const attendees: EmailAddress[] = (input.attendees ?? []).map(({ emailAddress }) => {
    const address = emailAddress.address?.trim() ?? '';
    if (!isMailAddress(address)) {
      throw new GraphError(
        400,
        'ErrorInvalidRecipients',
        `At least one recipient isn't valid., Recipient '${address}' is not resolved.`,
      );
    }
    return { name: emailAddress.name ?? address, address };
  });
  const body: ItemBody = {
    contentType: input.body?.contentType?.toLowerCase() === 'html' ? 'html' : 'text',
    content: input.body?.content ?? '',
  };
  const { profile } = ctx.data;
  const event = buildEvent({
    id: exchangeId(ctx.userId, 'event', randomUUID()),
    subject: input.subject,
    body,
    startMs: start.utcMs,
    endMs: end.utcMs,
    isAllDay: input.isAllDay ?? false,
    location: input.location?.displayName ?? input.locations?.[0]?.displayName ?? '',
    attendees,
    organizer: { name: profile.displayName, address: profile.mail },
    isOrganizer: true,
    isOnlineMeeting: input.isOnlineMeeting ?? false,
    createdMs: ctx.now().getTime(),
    showAs:
      input.showAs === 'free' || input.showAs === 'tentative' || input.showAs === 'oof'
        ? input.showAs
        : 'busy',
    importance: input.importance ?? 'normal',
  });
  ctx.data.events.push(event);
  return {
    status: 201,
    headers: {
      location: `${ctx.root}/users('${ctx.userId}')/events('${encodeURIComponent(event.id)}')`,
    },
    body: {
      '@odata.context': contextUrl(
        ctx.root,
        `users('${ctx.userId}')/events`,
        undefined,
        '/$entity',
      ),
      ...event,
      start: inZone(start),
      end: inZone(end),
    },
  };
}
