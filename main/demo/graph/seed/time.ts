/** One minute, hour and day in milliseconds. */
export const MINUTE = 60_000;
/** One hour in milliseconds. */
export const HOUR = 60 * MINUTE;
/** One day in milliseconds. */
export const DAY = 24 * HOUR;

/** Graph's mail and drive timestamps: UTC to the second, e.g. `2025-03-04T09:15:00Z`. */
export function utcStamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Graph's event times: seven fractional digits and no zone, e.g. `2025-03-04T09:15:00.0000000`. */
export function eventStamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.0000000`;
}

/** Midnight UTC of the day `ms` falls in. */
export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}
