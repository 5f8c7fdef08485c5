import { createHash } from 'node:crypto';
import type { EmailAddress, GraphEvent, ItemBody } from './model.ts';
import { previewOf } from './mail-items.ts';
import { eventStamp, utcStamp } from './seed/time.ts';

/** What an event is made of; the rest is derived. */
export interface EventInput {
  id: string;
  subject: string;
  body: ItemBody;
  startMs: number;
  endMs: number;
  isAllDay?: boolean;
  location?: string;
  attendees: EmailAddress[];
  organizer: EmailAddress;
  isOrganizer: boolean;
  isOnlineMeeting: boolean;
  createdMs: number;
  showAs?: GraphEvent['showAs'];
  importance?: GraphEvent['importance'];
}

/** An event with Graph's default property set, its times in UTC. */
export function buildEvent(input: EventInput): GraphEvent {
  const hash = createHash('sha256').update(input.id).digest();
  const changeKey = hash.subarray(0, 21).toString('base64');
  const joinUrl = input.isOnlineMeeting
    ? `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${hash.subarray(0, 24).toString('base64url')}%40thread.v2/0`
    : null;
  const place = input.location ?? '';
  const location = {
    displayName: place,
    locationType: place.startsWith('Conf Room')
      ? ('conferenceRoom' as const)
      : ('default' as const),
    uniqueIdType: 'unknown' as const,
  };
  const created = utcStamp(input.createdMs);
  return {
    '@odata.etag': `W/"${changeKey}"`,
    id: input.id,
    createdDateTime: created,
    lastModifiedDateTime: created,
    changeKey,
    categories: [],
    iCalUId: `040000008200E00074C5B7101A82E008${hash.toString('hex').toUpperCase().slice(0, 48)}`,
    reminderMinutesBeforeStart: input.isAllDay ? 1080 : 15,
    isReminderOn: true,
    hasAttachments: false,
    subject: input.subject,
    bodyPreview: previewOf(input.body),
    importance: input.importance ?? 'normal',
    sensitivity: 'normal',
    isAllDay: input.isAllDay ?? false,
    isCancelled: false,
    isOrganizer: input.isOrganizer,
    responseRequested: true,
    showAs: input.showAs ?? (input.isAllDay ? 'free' : 'busy'),
    type: 'singleInstance',
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(input.id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: input.isOnlineMeeting,
    onlineMeetingProvider: input.isOnlineMeeting ? 'teamsForBusiness' : 'unknown',
    responseStatus: {
      response: input.isOrganizer ? 'organizer' : 'accepted',
      time: input.isOrganizer ? '0001-01-01T00:00:00Z' : created,
    },
    body: { ...input.body },
    start: { dateTime: eventStamp(input.startMs), timeZone: 'UTC' },
    end: { dateTime: eventStamp(input.endMs), timeZone: 'UTC' },
    location,
    locations: place ? [{ ...location }] : [],
    attendees: input.attendees.map((emailAddress) => ({
      type: 'required',
      status: { response: 'none', time: '0001-01-01T00:00:00Z' },
      emailAddress: { ...emailAddress },
    })),
    organizer: { emailAddress: { ...input.organizer } },
    onlineMeeting: joinUrl ? { joinUrl } : null,
  };
}

/** The UTC instant of an event time the stand-in stored (always in UTC). */
export function eventTimeMs(time: { dateTime: string }): number {
  return Date.parse(`${time.dateTime.slice(0, 23)}Z`);
}
