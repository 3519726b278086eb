import { addCstDays, cstDateOf, windowBounds, type ReportWindow } from '@cinode/contracts';

export interface DailyPlan {
  /** The day whose report is due now (inside its window, not built yet). */
  build?: string;
  /** Days whose window closed with neither report nor gap entry: to be recorded as gaps. */
  gaps: string[];
}

/**
 * What the scheduler does at `now`. Days are CST dates; `recorded` holds the days that already
 * have a daily entry (report or gap). Gaps are looked for from the first recorded day (or today,
 * on a fresh install) but at most `lookbackDays` back, so a service that was down for days still
 * shows each missed day instead of silence.
 */
export function planDaily(
  now: Date,
  window: ReportWindow,
  recorded: ReadonlySet<string>,
  firstRecorded: string | undefined,
  lookbackDays: number,
): DailyPlan {
  const today = cstDateOf(now);
  const { start, end } = windowBounds(today, window);
  const plan: DailyPlan = { gaps: [] };
  if (now >= start && now < end && !recorded.has(today)) plan.build = today;
  const earliest = addCstDays(today, -lookbackDays);
  let day = firstRecorded && firstRecorded > earliest ? firstRecorded : earliest;
  if (!firstRecorded) day = today;
  for (; day <= today; day = addCstDays(day, 1)) {
    if (!recorded.has(day) && windowBounds(day, window).end <= now) plan.gaps.push(day);
  }
  return plan;
}
