import type { UnitOfWork } from '@cinode/database';
import type { DataSource } from 'typeorm';
import type { ComputeMapSource } from '../src/compute/resource-aggregation.gateway';
import type { DeliverySender } from '../src/delivery/delivery.sender';
import { ReportContent } from '../src/reports/report-content';
import { ReportsRepository } from '../src/reports/reports.repository';
import { DailyReportScheduler } from '../src/schedule/daily-report.scheduler';
import type { SecurityEventsSource } from '../src/security/security.gateway';
import { reportingTestDatabase } from './reporting-database';
import { consecutiveDays, schedulerConfig } from './scheduler-config';

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
    // A lookback shorter than the outage below.
    const config = schedulerConfig({ REPORT_GAP_LOOKBACK_DAYS: 2 });
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
    expect(after.gaps).toEqual(consecutiveDays('2026-12-02', 8));
    expect(await dailyStates(db)).toEqual({
      '2026-12-01': 'pending',
      ...Object.fromEntries(consecutiveDays('2026-12-02', 8).map((day) => [day, 'missed'])),
    });
    // The next round finds nothing new.
    expect((await scheduler.tick(new Date('2026-12-09T09:01:00+08:00'))).gaps).toEqual([]);
  }, 60_000);
});
