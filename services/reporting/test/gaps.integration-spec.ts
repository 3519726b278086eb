import { exampleReportPayload, parseReportWindow, type ReportWindow } from '@cinode/contracts';
import type { UnitOfWork } from '@cinode/database';
import type { DataSource } from 'typeorm';
import type { ComputeMapSource } from '../src/compute/resource-aggregation.gateway';
import type { ReportingConfig } from '../src/config';
import type { DeliverySender } from '../src/delivery/delivery.sender';
import { ReportContent } from '../src/reports/report-content';
import { ReportsRepository } from '../src/reports/reports.repository';
import { DailyReportScheduler } from '../src/schedule/daily-report.scheduler';
import type { SecurityEventsSource } from '../src/security/security.gateway';
import { reportingTestDatabase } from './reporting-database';

/** What the database holds for the daily entries, by CST day: the state of each. */
async function dailyStates(db: DataSource): Promise<Record<string, string>> {
  const rows: { day: string; state: string }[] = await db.query(
    `SELECT report_date::text AS day, state FROM node_report WHERE kind = 1 ORDER BY report_date`,
  );
  return Object.fromEntries(rows.map((r) => [r.day, r.state]));
}

describe('DailyReportScheduler on Postgres: missed days', () => {
  let db: DataSource;
  let scheduler: DailyReportScheduler;

  beforeAll(async () => {
    let uow: UnitOfWork;
    ({ db, uow } = await reportingTestDatabase('reporting_gaps'));
    const config = {
      REPORT_BASE_INFO_JSON: exampleReportPayload().base,
      REPORT_WINDOW: parseReportWindow('07:00-08:00') as ReportWindow,
      REPORT_CATCH_UP_WINDOWS: false,
      // Shorter than the outage below.
      REPORT_GAP_LOOKBACK_DAYS: 2,
      REPORT_SCHEDULE_INTERVAL_MS: 1_000,
    } as ReportingConfig;
    const compute: ComputeMapSource = {
      computeMap: () => Promise.resolve({ cells: [], total: undefined, free: undefined } as never),
    };
    const security: SecurityEventsSource = {
      listAttackEvents: () => Promise.resolve({ events: [], nextPageToken: '' }),
    };
    const sender = { wake: () => undefined } as unknown as DeliverySender;
    scheduler = new DailyReportScheduler(
      config,
      uow,
      new ReportsRepository(uow),
      new ReportContent(config, compute, security),
      sender,
    );
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
  });

  it('records every day of an outage longer than the lookback as a gap, and nothing twice', async () => {
    // Built in its window on 1 Dec, then nothing until 9:00 on 9 Dec (CST).
    expect(await scheduler.tick(new Date('2026-12-01T07:10:00+08:00'))).toEqual({
      built: '2026-12-01',
      gaps: [],
    });
    const after = await scheduler.tick(new Date('2026-12-09T09:00:00+08:00'));
    expect(after.gaps).toEqual([
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
      '2026-12-07',
      '2026-12-08',
      '2026-12-09',
    ]);
    expect(await dailyStates(db)).toEqual({
      '2026-12-01': 'pending',
      '2026-12-02': 'missed',
      '2026-12-03': 'missed',
      '2026-12-04': 'missed',
      '2026-12-05': 'missed',
      '2026-12-06': 'missed',
      '2026-12-07': 'missed',
      '2026-12-08': 'missed',
      '2026-12-09': 'missed',
    });
    // The next round finds nothing new.
    expect((await scheduler.tick(new Date('2026-12-09T09:01:00+08:00'))).gaps).toEqual([]);
  }, 60_000);
});
