import {
  NATIONAL_REPORT_WINDOWS,
  addCstDays,
  cstDateOf,
  windowBounds,
  type ReportWindow,
} from '@cinode/contracts';

export interface DailyPlan {
  /** The day whose report is due now (inside one of its windows, not built yet). */
  build?: string;
  /** The window `build` falls in. */
  window?: ReportWindow;
  /** Days whose last window closed with neither report nor gap entry: to be recorded as gaps. */
  gaps: string[];
}

/**
 * The windows a day's report may go in, in the order they open: the configured one, then — with
 * `catchUp` — the national windows that open after it closes the same day. The seed asks for one
 * report a day in any one of its windows, so a node that was down through its own window still
 * reports that day in the next one, and only a day whose last window closed is a gap.
 */
export function dailyWindows(configured: ReportWindow, catchUp: boolean): ReportWindow[] {
  if (!catchUp) return [configured];
  return [
    configured,
    ...NATIONAL_REPORT_WINDOWS.filter((w) => w.startMinute >= configured.endMinute),
  ];
}

/**
 * What the scheduler does at `now`. Days are CST dates; `windows` are the day's windows in order
 * (`dailyWindows`); `recorded` holds the days that already have a daily entry (report or gap).
 * Gaps are looked for from the first recorded day (or today, on a fresh install) over the last
 * `lookbackDays` (`recorded` need only hold those days), and further back from the day after
 * `lastBefore`, the latest day recorded before the lookback, when there is one: every day between
 * it and the lookback is missing by definition. So a service that was down for days, or for longer
 * than the lookback, still shows each missed day instead of silence.
 */
export function planDaily(
  now: Date,
  windows: readonly ReportWindow[],
  recorded: ReadonlySet<string>,
  firstRecorded: string | undefined,
  lookbackDays: number,
  lastBefore?: string,
): DailyPlan {
  const today = cstDateOf(now);
  const plan: DailyPlan = { gaps: [] };
  if (!recorded.has(today)) {
    const open = windows.find((window) => {
      const { start, end } = windowBounds(today, window);
      return now >= start && now < end;
    });
    if (open) {
      plan.build = today;
      plan.window = open;
    }
  }
  const last = windows.reduce((a, b) => (b.endMinute > a.endMinute ? b : a));
  const earliest = addCstDays(today, -lookbackDays);
  let day = firstRecorded && firstRecorded > earliest ? firstRecorded : earliest;
  if (lastBefore !== undefined && lastBefore < earliest) {
    const after = addCstDays(lastBefore, 1);
    if (after < day) day = after;
  }
  if (!firstRecorded) day = today;
  for (; day <= today; day = addCstDays(day, 1)) {
    if (!recorded.has(day) && windowBounds(day, last).end <= now) plan.gaps.push(day);
  }
  return plan;
}
