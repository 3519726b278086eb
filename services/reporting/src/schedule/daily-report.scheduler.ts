import { randomUUID } from 'node:crypto';
import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import {
  REPORT_SCHEMA_VERSION,
  addCstDays,
  cstDateOf,
  windowBounds,
  type ReportWindow,
} from '@cinode/contracts';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import { ReportKind } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { ReportingConfig } from '../config';
import { DeliverySender } from '../delivery/delivery.sender';
import { ReportContent } from '../reports/report-content';
import { pendingReport } from '../reports/report-payload';
import { ReportsRepository } from '../reports/reports.repository';
import { BackgroundLoop } from './loop';
import { dailyWindows, planDaily } from './daily-plan';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Builds the daily report inside the configured window — or, missed, in a later national window of
 * the day (`dailyWindows`) — and records a gap for every day whose last window closed without one.
 * Every replica runs it on the database's clock, so replicas agree on what is due whatever their
 * own clocks say; the unique (kind, date) of daily entries lets one win.
 */
@Injectable()
export class DailyReportScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DailyReportScheduler.name);
  private readonly loop: BackgroundLoop;
  /** Why the last build failed: the reason a gap gives if the window closes before one succeeds. */
  private lastBuildError = '';
  private readonly windows: ReportWindow[];

  constructor(
    @InjectConfig() private readonly config: ReportingConfig,
    private readonly uow: UnitOfWork,
    private readonly reports: ReportsRepository,
    private readonly content: ReportContent,
    private readonly sender: DeliverySender,
  ) {
    this.windows = dailyWindows(config.REPORT_WINDOW, config.REPORT_CATCH_UP_WINDOWS);
    this.loop = new BackgroundLoop(
      'daily report scheduler',
      config.REPORT_SCHEDULE_INTERVAL_MS,
      async () => {
        await this.tick(await this.reports.databaseNow());
      },
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** One scheduling round at `now`: build the due report, record the gaps. Exposed for tests. */
  async tick(now: Date): Promise<{ built?: string; gaps: string[] }> {
    const today = cstDateOf(now);
    const { days, first, lastBefore } = await this.reports.dailyDays(
      addCstDays(today, -this.config.REPORT_GAP_LOOKBACK_DAYS),
      today,
    );
    const plan = planDaily(
      now,
      this.windows,
      days,
      first,
      this.config.REPORT_GAP_LOOKBACK_DAYS,
      lastBefore,
    );
    const gaps: string[] = [];
    for (const day of plan.gaps) if (await this.recordGap(day, now)) gaps.push(day);
    let built: string | undefined;
    if (plan.build && plan.window) {
      if (plan.window !== this.config.REPORT_WINDOW)
        this.logger.warn(
          `the daily report of ${plan.build} was not built in its window ${this.config.REPORT_WINDOW.name}: catching up in the ${plan.window.name} window`,
        );
      try {
        if (await this.build(plan.build, plan.window, now)) built = plan.build;
        this.lastBuildError = '';
      } catch (error) {
        this.lastBuildError = error instanceof Error ? error.message : String(error);
        this.logger.warn(
          `building the daily report of ${plan.build} failed: ${this.lastBuildError}`,
        );
      }
    }
    if (built) this.sender.wake();
    return { built, gaps };
  }

  /** Builds the day's report and writes it to the outbox in one transaction. */
  private async build(day: string, window: ReportWindow, now: Date): Promise<boolean> {
    // The database's clock, as the plan's: the period agrees with the day and window it is for.
    const generatedAt = now;
    const periodStart = new Date(generatedAt.getTime() - DAY_MS);
    // A source that cannot be asked fails the build (it throws): tick() records the failure and
    // the next round, within the window, tries again; a day whose windows all close first becomes
    // a gap naming it. No report goes out with a section silently empty.
    const payload = await this.content.payload(
      periodStart,
      generatedAt,
      `the daily report of ${day}`,
    );
    return this.uow.run(async (tx) => {
      const report = pendingReport(
        {
          kind: ReportKind.REPORT_KIND_DAILY,
          specialRequestId: '',
          reportDate: day,
          window: window.name,
          periodStart,
          periodEnd: generatedAt,
          generatedAt,
        },
        payload,
      );
      const inserted = await this.reports.insertIfAbsent(tx, report);
      if (inserted) this.logger.log(`built the daily report ${report.reportId} of ${day}`);
      return inserted;
    });
  }

  private async recordGap(day: string, now: Date): Promise<boolean> {
    const window = this.config.REPORT_WINDOW;
    const tried = this.windows
      .map((w) => {
        const { start, end } = windowBounds(day, w);
        return `${start.toISOString()} to ${end.toISOString()}`;
      })
      .join(', ');
    const reason = this.lastBuildError
      ? `no report was built in the day's windows (last failure: ${this.lastBuildError})`
      : "no report was built in the day's windows (the service was not running or not scheduling)";
    const inserted = await this.uow.run((tx) =>
      this.reports.insertIfAbsent(tx, {
        reportId: randomUUID(),
        kind: ReportKind.REPORT_KIND_DAILY,
        specialRequestId: '',
        reportDate: day,
        window: window.name,
        state: 'missed',
        periodStart: null,
        periodEnd: null,
        generatedAt: null,
        schemaVersion: REPORT_SCHEMA_VERSION,
        payload: null,
        payloadSha256: null,
        payloadSize: 0,
        attempts: 0,
        nextAttemptAt: null,
        lastError: `${reason}; windows ${tried}`,
        receiptNumber: null,
        receivedAt: null,
        deliveredAt: null,
        createdAt: now,
      }),
    );
    if (inserted) this.logger.warn(`the daily report of ${day} was missed: recorded as a gap`);
    return inserted;
  }
}
