import { buildEvent } from '../event-items.ts';
import { escapeHtml } from '../mail-items.ts';
import type { GraphEvent } from '../model.ts';
import { fill } from './context.ts';
import type { SeedContext } from './context.ts';
import { MEETING_SUBJECTS, ROOMS } from './pools.ts';
import { exchangeId } from './random.ts';
import { DAY, HOUR, MINUTE, startOfUtcDay } from './time.ts';

const FIRST_DAY = -14;
const LAST_DAY = 21;

/** Meetings on the working days of the surrounding five weeks, between 08:00 and 17:00 UTC. */
export function seedEvents(ctx: SeedContext): GraphEvent[] {
  const { random, user } = ctx;
  const today = startOfUtcDay(ctx.now);
  const events: GraphEvent[] = [];
  for (let day = FIRST_DAY; day <= LAST_DAY; day += 1) {
    const dayMs = today + day * DAY;
    const weekday = new Date(dayMs).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    // Today always has meetings, so "what's on today" has an answer.
    const count = day === 0 ? 3 : random.int(0, 2);
    const taken = new Set<number>();
    for (let n = 0; n < count; n += 1) {
      const hour = random.int(8, 16);
      if (taken.has(hour)) continue;
      taken.add(hour);
      const project = random.pick(ctx.projects);
      const subject = fill(random.pick(MEETING_SUBJECTS), project, ctx.quarter);
      const startMs = dayMs + hour * HOUR + (random.chance(0.3) ? 30 * MINUTE : 0);
      const minutes = random.pick([30, 30, 60, 60, 90]);
      const isOrganizer = random.chance(0.4);
      const others = random.shuffle(ctx.colleagues).slice(0, random.int(1, 4));
      const organizer = isOrganizer ? ctx.self : (others[0]?.email ?? ctx.self);
      const attendees = [
        ...others.map((colleague) => colleague.email).filter((email) => email !== organizer),
        ...(isOrganizer ? [] : [ctx.self]),
      ];
      const isOnlineMeeting = random.chance(0.5);
      const agenda = `Agenda: ${subject}. ${isOnlineMeeting ? 'Join on Teams.' : 'See you in the room.'}`;
      events.push(
        buildEvent({
          id: exchangeId(user.id.toLowerCase(), 'event', String(day), String(n)),
          subject,
          body: {
            contentType: 'html',
            content: `<html><body><p>${escapeHtml(agenda)}</p></body></html>`,
          },
          startMs,
          endMs: startMs + minutes * MINUTE,
          location:
            isOnlineMeeting && random.chance(0.5) ? 'Microsoft Teams Meeting' : random.pick(ROOMS),
          attendees,
          organizer,
          isOrganizer,
          isOnlineMeeting,
          createdMs: Math.min(ctx.now, startMs) - random.int(2, 20) * DAY,
        }),
      );
    }
  }
  events.push(
    buildEvent({
      id: exchangeId(user.id.toLowerCase(), 'event', 'holiday'),
      subject: 'Company holiday',
      body: { contentType: 'html', content: '<html><body><p>Offices closed.</p></body></html>' },
      startMs: today + 9 * DAY,
      endMs: today + 10 * DAY,
      isAllDay: true,
      attendees: [],
      organizer: ctx.self,
      isOrganizer: true,
      isOnlineMeeting: false,
      createdMs: ctx.now - 60 * DAY,
    }),
  );
  return events;
}
