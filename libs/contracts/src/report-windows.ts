/**
 * The daily reporting windows of seed 004 (每日报送): 07:00–08:00, 12:00–13:00 and 19:00–20:00 China
 * Standard Time. CST is UTC+8 all year (China has kept no daylight saving time since 1991), so the
 * arithmetic is a fixed offset: no time-zone database, and no day of 23 or 25 hours.
 */
export const CST_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ReportWindow {
  /** Stable name, as APIs and tables spell it. */
  name: string;
  /** Minutes after CST midnight the window opens (inclusive). */
  startMinute: number;
  /** Minutes after CST midnight the window closes (exclusive). */
  endMinute: number;
}

export const NATIONAL_REPORT_WINDOWS: readonly ReportWindow[] = [
  { name: 'morning', startMinute: 7 * 60, endMinute: 8 * 60 },
  { name: 'noon', startMinute: 12 * 60, endMinute: 13 * 60 },
  { name: 'evening', startMinute: 19 * 60, endMinute: 20 * 60 },
];

/** The CST calendar date of an instant, as YYYY-MM-DD. */
export function cstDateOf(instant: Date): string {
  return new Date(instant.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant of CST midnight opening a CST date (YYYY-MM-DD). */
export function cstMidnight(date: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`not a date: ${date}`);
  const midnightUtc = Date.parse(`${date}T00:00:00.000Z`);
  if (Number.isNaN(midnightUtc) || new Date(midnightUtc).toISOString().slice(0, 10) !== date)
    throw new Error(`not a date: ${date}`);
  return new Date(midnightUtc - CST_OFFSET_MS);
}

/** The CST date a number of days after another. */
export function addCstDays(date: string, days: number): string {
  return cstDateOf(new Date(cstMidnight(date).getTime() + days * DAY_MS));
}

/** Where a window lies on a CST date: [start, end). */
export function windowBounds(date: string, window: ReportWindow): { start: Date; end: Date } {
  const midnight = cstMidnight(date).getTime();
  return {
    start: new Date(midnight + window.startMinute * 60_000),
    end: new Date(midnight + window.endMinute * 60_000),
  };
}

/** The window (of those given) an instant falls in, if any. */
export function windowAt(
  instant: Date,
  windows: readonly ReportWindow[] = NATIONAL_REPORT_WINDOWS,
): ReportWindow | undefined {
  const minute = Math.floor(
    ((((instant.getTime() + CST_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS) / 60_000,
  );
  return windows.find((w) => minute >= w.startMinute && minute < w.endMinute);
}

/**
 * Parses "HH:MM-HH:MM" (CST) into a window inside one day, or says what is wrong with it.
 * The end may be 24:00.
 */
export function parseReportWindow(value: string): ReportWindow | string {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(value.trim());
  if (!match) return 'must look like 07:00-08:00';
  const [sh, sm, eh, em] = match.slice(1).map(Number) as [number, number, number, number];
  if (sh > 23 || sm > 59 || eh > 24 || em > 59 || (eh === 24 && em !== 0))
    return 'must hold valid times of day';
  const startMinute = sh * 60 + sm;
  const endMinute = eh * 60 + em;
  if (endMinute <= startMinute) return 'must end after it starts, on the same day';
  const official = NATIONAL_REPORT_WINDOWS.find(
    (w) => w.startMinute === startMinute && w.endMinute === endMinute,
  );
  return { name: official?.name ?? value.trim(), startMinute, endMinute };
}
