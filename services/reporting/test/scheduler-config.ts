import {
  addCstDays,
  exampleReportPayload,
  parseReportWindow,
  type ReportWindow,
} from '@cinode/contracts';
import type { ReportingConfig } from '../src/config';

/** What the daily scheduler reads of its config, for tests: a 07:00-08:00 window, then `overrides`. */
export function schedulerConfig(overrides: Partial<ReportingConfig> = {}): ReportingConfig {
  return {
    REPORT_BASE_INFO_JSON: exampleReportPayload().base,
    REPORT_WINDOW: parseReportWindow('07:00-08:00') as ReportWindow,
    REPORT_CATCH_UP_WINDOWS: false,
    REPORT_GAP_LOOKBACK_DAYS: 0,
    REPORT_SCHEDULE_INTERVAL_MS: 1_000,
    ...overrides,
  } as ReportingConfig;
}

/** `count` consecutive CST days from `first` ("2026-12-02", ...). */
export function consecutiveDays(first: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => addCstDays(first, i));
}
