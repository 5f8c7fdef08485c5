/** Graph's `dateTimeTimeZone`. */
export interface GraphDateTime {
  dateTime?: string | null;
  timeZone?: string | null;
}

/** A Graph event time as ISO 8601: UTC ones with `Z`, others as the wall-clock time of their zone. */
export function eventTime(time: GraphDateTime | null | undefined): string | null {
  const value = time?.dateTime;
  if (!value) return null;
  // Graph writes seven fractional digits (…:00.0000000); seconds are precise enough.
  const wall = value.slice(0, 19);
  return /^(utc|etc\/utc|coordinated universal time)$/i.test(time?.timeZone ?? '')
    ? `${wall}Z`
    : wall;
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time (`YYYY-MM-DDTHH:mm:ss`) in `zone` at the instant `ms`. */
export function wallClock(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
}
