import { randomUUID } from 'node:crypto';
import type { Caller } from '@cinode/auth';
import { PageTokens } from '@cinode/common';
import {
  exampleReportPayload,
  REPORT_SCHEMA_VERSION,
  reportPayloadV1Schema,
} from '@cinode/contracts';
import type { UnitOfWork } from '@cinode/database';
import { ReportKind } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { ReportState } from '@cinode/proto/gen/cinode/reporting/v1/reporting_service';
import type { DataSource } from 'typeorm';
import type { ComputeMapSource } from '../src/compute/resource-aggregation.gateway';
import type { ReportingConfig } from '../src/config';
import type { DeliverySender } from '../src/delivery/delivery.sender';
import { ReportContent } from '../src/reports/report-content';
import type { NodeReportEntity, ReportStateName } from '../src/reports/report.entity';
import { ReportsRepository } from '../src/reports/reports.repository';
import { ReportsService } from '../src/reports/reports.service';
import type { SecurityEventsSource } from '../src/security/security.gateway';
import { reportingTestDatabase } from './reporting-database';

const operator: Caller = {
  subject: 'op-1',
  roles: ['operator'],
  tenant: '',
  tokenId: 't-1',
  expiresAt: new Date(Date.now() + 3_600_000),
} as Caller;

describe('ReportsService.rebuild', () => {
  let db: DataSource;
  let reports: ReportsRepository;
  let service: ReportsService;
  let securityAway = false;
  let woken = 0;

  beforeAll(async () => {
    let uow: UnitOfWork;
    ({ db, uow } = await reportingTestDatabase('reporting_rebuild'));
    reports = new ReportsRepository(uow);
    const config = { REPORT_BASE_INFO_JSON: exampleReportPayload().base } as ReportingConfig;
    const compute: ComputeMapSource = {
      computeMap: () => Promise.resolve({ cells: [], total: undefined, free: undefined } as never),
    };
    const security: SecurityEventsSource = {
      listAttackEvents: () =>
        securityAway
          ? Promise.reject(new Error('14 UNAVAILABLE: connection refused'))
          : Promise.resolve({ events: [], nextPageToken: '' }),
    };
    const sender = { wake: () => (woken += 1) } as unknown as DeliverySender;
    service = new ReportsService(
      uow,
      reports,
      PageTokens.ephemeral(),
      sender,
      new ReportContent(config, compute, security),
    );
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
  });

  let day = 0;
  /** A stored report in `state`, on a day of its own (the one-per-day index allows one live entry). */
  async function stored(
    state: ReportStateName,
    kind = ReportKind.REPORT_KIND_DAILY,
  ): Promise<NodeReportEntity> {
    day += 1;
    const at = new Date(Date.UTC(2026, 0, day, 0, 0, 0));
    const report: NodeReportEntity = {
      reportId: randomUUID(),
      kind,
      specialRequestId:
        kind === ReportKind.REPORT_KIND_SPECIAL ? `SR2026${String(day).padStart(8, '0')}` : '',
      reportDate: at.toISOString().slice(0, 10),
      window: kind === ReportKind.REPORT_KIND_SPECIAL ? 'special' : 'morning',
      state,
      periodStart: state === 'missed' ? null : new Date(at.getTime() - 86_400_000),
      periodEnd: state === 'missed' ? null : at,
      generatedAt: state === 'missed' ? null : at,
      schemaVersion: REPORT_SCHEMA_VERSION,
      payload: state === 'missed' ? null : Buffer.from('{"old":true}'),
      payloadSha256: state === 'missed' ? null : 'a'.repeat(64),
      payloadSize: state === 'missed' ? 0 : 12,
      attempts: state === 'missed' ? 0 : 1,
      nextAttemptAt: null,
      lastError:
        state === 'rejected' ? 'INVALID_ARGUMENT: payload.base.website: must be a URL' : '',
      receiptNumber: null,
      receivedAt: null,
      deliveredAt: null,
      createdAt: at,
    };
    await db.getRepository('NodeReportEntity').insert(report);
    return report;
  }

  it('builds a rejected daily report again under a new id, and the rejected one names it', async () => {
    const rejected = await stored('rejected');
    const before = woken;
    const rebuilt = await service.rebuild(operator, rejected.reportId, '');
    expect(woken).toBe(before + 1);
    expect(rebuilt).toMatchObject({
      kind: ReportKind.REPORT_KIND_DAILY,
      reportDate: rejected.reportDate,
      window: 'morning',
      state: 'pending',
      attempts: 0,
      supersedes: rejected.reportId,
      supersededBy: null,
    });
    expect(rebuilt.reportId).not.toBe(rejected.reportId);
    // The period that went unreported, not the last 24 hours.
    expect(rebuilt.periodStart).toEqual(rejected.periodStart);
    expect(rebuilt.periodEnd).toEqual(rejected.periodEnd);
    const full = await reports.find(rebuilt.reportId, true);
    // Fresh content, valid against the national schema.
    expect(() =>
      reportPayloadV1Schema.parse(JSON.parse(full!.payload!.toString('utf8'))),
    ).not.toThrow();
    expect(await reports.find(rejected.reportId, false)).toMatchObject({
      state: 'superseded',
      supersededBy: rebuilt.reportId,
      nextAttemptAt: null,
    });
    const listed = await service.list(ReportState.REPORT_STATE_SUPERSEDED, 500, '');
    expect(listed.reports.map((r) => r.reportId)).toContain(rejected.reportId);
    // Neither is rejected now: the superseded one and the pending rebuild are refused.
    for (const id of [rejected.reportId, rebuilt.reportId])
      await expect(service.rebuild(operator, id, '')).rejects.toMatchObject({
        kind: 'FAILED_PRECONDITION',
        reason: 'REPORT_NOT_REJECTED',
      });
  });

  it('keeps a special report’s request and period', async () => {
    const rejected = await stored('rejected', ReportKind.REPORT_KIND_SPECIAL);
    const rebuilt = await service.rebuild(operator, rejected.reportId, '');
    expect(rebuilt).toMatchObject({
      kind: ReportKind.REPORT_KIND_SPECIAL,
      specialRequestId: rejected.specialRequestId,
      window: 'special',
      periodStart: rejected.periodStart,
      periodEnd: rejected.periodEnd,
      supersedes: rejected.reportId,
    });
  });

  it('answers a retried request id with the report it built, and refuses it for another report', async () => {
    const rejected = await stored('rejected');
    const first = await service.rebuild(operator, rejected.reportId, 'rebuild-1');
    const again = await service.rebuild(operator, rejected.reportId, 'rebuild-1');
    expect(again.reportId).toBe(first.reportId);
    const rows = await db.query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM node_report WHERE report_date = $1`,
      [rejected.reportDate],
    );
    expect(Number(rows[0].n)).toBe(2);
    const other = await stored('rejected');
    await expect(service.rebuild(operator, other.reportId, 'rebuild-1')).rejects.toMatchObject({
      kind: 'ALREADY_EXISTS',
      reason: 'REQUEST_ID_REUSED',
    });
  });

  it('builds one report when many rebuild the same rejected report at once', async () => {
    const rejected = await stored('rejected');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        service.rebuild(operator, rejected.reportId, `race-${i}`),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === 'rejected'))
      expect(lost.reason).toMatchObject({
        reason: 'REPORT_NOT_REJECTED',
      });
    const live = await db.query<Array<{ state: string }>>(
      `SELECT state FROM node_report WHERE report_date = $1 ORDER BY state`,
      [rejected.reportDate],
    );
    expect(live.map((r) => r.state)).toEqual(['pending', 'superseded']);
  });

  it('changes nothing when the content cannot be built, and says to retry', async () => {
    const rejected = await stored('rejected');
    securityAway = true;
    try {
      await expect(service.rebuild(operator, rejected.reportId, '')).rejects.toMatchObject({
        kind: 'UNAVAILABLE',
        reason: 'BUILD_FAILED',
      });
    } finally {
      securityAway = false;
    }
    expect(await reports.find(rejected.reportId, false)).toMatchObject({ state: 'rejected' });
  });

  it('refuses a gap, a delivered report, an unknown id and a malformed one', async () => {
    for (const state of ['missed', 'delivered', 'pending'] as const) {
      const report = await stored(state);
      await expect(service.rebuild(operator, report.reportId, '')).rejects.toMatchObject({
        reason: 'REPORT_NOT_REJECTED',
      });
    }
    await expect(service.rebuild(operator, randomUUID(), '')).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'REPORT_NOT_FOUND',
    });
    await expect(service.rebuild(operator, 'nope', 'bad id!')).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      fieldViolations: [
        expect.objectContaining({ field: 'report_id' }),
        expect.objectContaining({ field: 'request_id' }),
      ],
    });
  });

  /** Records an attempt of the report with this outcome and status. */
  async function attempt(reportId: string, outcome: string, grpcStatus: string): Promise<void> {
    await db.query(
      `INSERT INTO report_delivery_attempt (report_id, attempt, started_at, outcome, grpc_status, error)
       VALUES ($1, 1, now(), $2, $3, '')`,
      [reportId, outcome, grpcStatus],
    );
  }

  it('waits for an attempt still under way, and never rebuilds what the national node holds', async () => {
    const inFlight = await stored('rejected');
    await attempt(inFlight.reportId, 'in_flight', '');
    await expect(service.rebuild(operator, inFlight.reportId, '')).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'REPORT_IN_FLIGHT',
    });
    const held = await stored('rejected');
    await attempt(held.reportId, 'rejected', 'ALREADY_EXISTS');
    await expect(service.rebuild(operator, held.reportId, '')).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'REPORT_HELD_NATIONALLY',
    });
    for (const report of [inFlight, held])
      expect(await reports.find(report.reportId, false)).toMatchObject({ state: 'rejected' });
  });

  it('sends a superseded report never again, and keeps a late receipt on it without reviving it', async () => {
    const rejected = await stored('rejected');
    await attempt(rejected.reportId, 'rejected', 'INVALID_ARGUMENT');
    const rebuilt = await service.rebuild(operator, rejected.reportId, '');
    await expect(service.resend(rejected.reportId, '')).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'REPORT_SUPERSEDED',
    });
    // An attempt that outlived its lease brings a receipt after the rebuild.
    await reports.settleMany([
      {
        reportId: rejected.reportId,
        attempt: 1,
        outcome: 'delivered',
        grpcStatus: 'OK',
        error: '',
        nextAttemptAt: null,
        receiptNumber: 'NR-LATE-1',
        receivedAt: new Date(),
      },
    ]);
    expect(await reports.find(rejected.reportId, false)).toMatchObject({
      state: 'superseded',
      receiptNumber: 'NR-LATE-1',
    });
    expect(await reports.find(rebuilt.reportId, false)).toMatchObject({ state: 'pending' });
  });
});
