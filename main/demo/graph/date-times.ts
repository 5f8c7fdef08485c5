import { isTimeZone, wallClock } from '../../core/mcp/tools/event-time.ts';

/** A date-time as a client wrote it: the wall clock read as if UTC, and the offset when it had one. */
export interface ParsedDateTime {
  wallMs: number;
  offsetMs?: number;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses the ISO 8601 forms Graph accepts: date only, 0–7 fractional digits, with or without an offset. */
export function parseDateTime(text: string): ParsedDateTime | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const wallMs = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, Number(frac.padEnd(3, '0').slice(0, 3)));
  const check = new Date(wallMs);
  // Date.UTC rolls 2025-02-30 over to March; Graph refuses such dates.
  if (
    check.getUTCDate() !== +d! ||
    check.getUTCMonth() !== +mo! - 1 ||
    +h > 23 ||
    +mi > 59 ||
    +s > 59
  ) {
    return undefined;
  }
  if (!zone) return { wallMs };
  if (zone.toUpperCase() === 'Z') return { wallMs, offsetMs: 0 };
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return {
    wallMs,
    offsetMs: sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000,
  };
}

/** The UTC instant of a parsed date-time; no offset means UTC, as in Graph's query parameters. */
export function instantOf(parsed: ParsedDateTime): number {
  return parsed.wallMs - (parsed.offsetMs ?? 0);
}

/** Windows time zone names Graph clients commonly send, mapped to IANA zones. */
const WINDOWS_ZONES: Record<string, string> = {
  utc: 'UTC',
  'coordinated universal time': 'UTC',
  'gmt standard time': 'Europe/London',
  'greenwich standard time': 'Atlantic/Reykjavik',
  'w. europe standard time': 'Europe/Berlin',
  'romance standard time': 'Europe/Paris',
  'central europe standard time': 'Europe/Budapest',
  'central european standard time': 'Europe/Warsaw',
  'fle standard time': 'Europe/Helsinki',
  'gtb standard time': 'Europe/Bucharest',
  'pacific standard time': 'America/Los_Angeles',
  'mountain standard time': 'America/Denver',
  'central standard time': 'America/Chicago',
  'eastern standard time': 'America/New_York',
  'atlantic standard time': 'America/Halifax',
  'e. south america standard time': 'America/Sao_Paulo',
  'india standard time': 'Asia/Kolkata',
  'china standard time': 'Asia/Shanghai',
  'tokyo standard time': 'Asia/Tokyo',
  'singapore standard time': 'Asia/Singapore',
  'aus eastern standard time': 'Australia/Sydney',
  'new zealand standard time': 'Pacific/Auckland',
};

/** The IANA zone for a Windows or IANA time zone name, or undefined when it is unknown. */
export function resolveTimeZone(name: string): string | undefined {
  const trimmed = name.trim();
  return WINDOWS_ZONES[trimmed.toLowerCase()] ?? (isTimeZone(trimmed) ? trimmed : undefined);
}

/** How far the zone's wall clock is ahead of UTC at the instant `utcMs`. */
function offsetAt(utcMs: number, zone: string): number {
  return Date.parse(`${wallClock(utcMs, zone)}Z`) - Math.floor(utcMs / 1000) * 1000;
}

/** The UTC instant of a wall-clock time in a zone (DST gaps resolve forwards). */
export function zonedToUtc(wallMs: number, zone: string): number {
  const first = wallMs - offsetAt(wallMs, zone);
  return wallMs - offsetAt(first, zone);
}

/** The wall-clock time in a zone at a UTC instant, read as if UTC. */
export function utcToZoned(utcMs: number, zone: string): number {
  return utcMs + offsetAt(utcMs, zone);
}
