import {
  exampleReportPayload,
  REPORT_SCHEMA_VERSION,
  reportPayloadViolations,
} from '@cinode/contracts';
import type { UnitOfWork } from '@cinode/database';
import { fromTimestamp, toTimestamp } from '@cinode/grpc';
import {
  ReportKind,
  ReportType,
  SpecialRequestState,
  type ListSpecialReportRequestsRequest,
  type ListSpecialReportRequestsResponse,
  type SpecialReportRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { DataSource } from 'typeorm';
import type { ComputeMapSource } from '../src/compute/resource-aggregation.gateway';
import type { ReportingConfig } from '../src/config';
import type { DeliverySender } from '../src/delivery/delivery.sender';
import type { NationalNode } from '../src/national/national-node.gateway';
import type { NodeIdentityService } from '../src/national/node-identity.service';
import { ReportsRepository } from '../src/reports/reports.repository';
import type { SecurityEventsSource } from '../src/security/security.gateway';
import { SPECIAL_WINDOW, SpecialRequestWatcher } from '../src/special/special-request.watcher';
import { reportingTestDatabase } from './reporting-database';

const PERIOD_START = new Date('2026-10-01T00:00:00.000Z');
const PERIOD_END = new Date('2026-10-08T00:00:00.000Z');

function request(n: number, issuedAt = new Date()): SpecialReportRequest {
  return {
    specialRequestId: `SR20261001${String(n).padStart(6, '0')}`,
    nodeCode: 'R0001',
    reportTypes: [ReportType.REPORT_TYPE_COMPUTE_INFORMATION],
    periodStart: toTimestamp(PERIOD_START),
    periodEnd: toTimestamp(PERIOD_END),
    reason: '国庆节保障',
    issuedAt: toTimestamp(issuedAt),
    deadline: toTimestamp(new Date(Date.now() + 60_000)),
    state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
    answeredReportId: '',
    answeredAt: undefined,
    onTime: false,
  };
}

/** The national node's open requests, paged as ListSpecialReportRequests pages them. */
class FakeNationalNode implements Pick<NationalNode, 'listSpecialReportRequests'> {
  readonly calls: ListSpecialReportRequestsRequest[] = [];
  /** The call (0-based) from which every call fails UNAVAILABLE-like. */
  failFromCall = Infinity;
  constructor(public open: SpecialReportRequest[]) {}

  listSpecialReportRequests(
    call: ListSpecialReportRequestsRequest,
  ): Promise<ListSpecialReportRequestsResponse> {
    this.calls.push(call);
    if (this.calls.length > this.failFromCall)
      return Promise.reject(new Error('national node unavailable'));
    const since = call.issuedSince ? fromTimestamp(call.issuedSince) : undefined;
    const matching = this.open.filter((r) => !since || fromTimestamp(r.issuedAt!) >= since);
    const from = call.pageToken ? Number(call.pageToken) : 0;
    const requests = matching.slice(from, from + call.pageSize);
    const next = from + call.pageSize;
    return Promise.resolve({
      requests,
      nextPageToken: next < matching.length ? String(next) : '',
    });
  }
}

describe(SpecialRequestWatcher.name, () => {
  let db: DataSource;
  let reports: ReportsRepository;
  let uow: UnitOfWork;

  beforeAll(async () => {
    ({ db, uow } = await reportingTestDatabase('reporting_special'));
    reports = new ReportsRepository(uow);
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
  });

  /** The security service: no attack events, or away when `away` is set. */
  const security = {
    away: false,
    asked: [] as Array<{ updatedFrom?: Date; attackTimeTo?: Date }>,
  };
  const securitySource: SecurityEventsSource = {
    listAttackEvents: (request) => {
      security.asked.push({
        updatedFrom: request.updatedFrom && fromTimestamp(request.updatedFrom),
        attackTimeTo: request.attackTimeTo && fromTimestamp(request.attackTimeTo),
      });
      return security.away
        ? Promise.reject(new Error('security unavailable'))
        : Promise.resolve({ events: [], nextPageToken: '' });
    },
  };

  function watcher(national: FakeNationalNode): SpecialRequestWatcher {
    const config = {
      REPORT_BASE_INFO_JSON: exampleReportPayload().base,
      SPECIAL_REQUEST_POLL_MS: 1_000,
    } as ReportingConfig;
    const identity = { ensure: () => Promise.resolve('R0001') } as NodeIdentityService;
    const compute: ComputeMapSource = {
      computeMap: () => Promise.resolve({ cells: [], total: undefined, free: undefined } as never),
    };
    const sender = { wake: () => undefined } as DeliverySender;
    return new SpecialRequestWatcher(
      config,
      uow,
      reports,
      national as unknown as NationalNode,
      identity,
      compute,
      sender,
      securitySource,
    );
  }

  it('builds one valid special report per open request, with its id and period, across pages', async () => {
    const national = new FakeNationalNode(Array.from({ length: 620 }, (_, i) => request(i + 1)));
    const built = await watcher(national).round();

    expect(built).toHaveLength(620);
    expect(national.calls.map((c) => c.pageToken)).toEqual(['', '500']);
    expect(
      national.calls.every((c) => c.state === SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN),
    ).toBe(true);
    const one = await reports.find(built[0], true);
    expect(one).toMatchObject({
      kind: ReportKind.REPORT_KIND_SPECIAL,
      window: SPECIAL_WINDOW,
      state: 'pending',
      periodStart: PERIOD_START,
      periodEnd: PERIOD_END,
    });
    expect(one!.specialRequestId).toMatch(/^SR20261001\d{6}$/);
    const payload: unknown = JSON.parse(one!.payload!.toString('utf8'));
    expect(reportPayloadViolations(REPORT_SCHEMA_VERSION, payload)).toEqual([]);
    const rows: { n: string }[] = await db.query(
      `SELECT count(DISTINCT special_request_id) AS n FROM node_report WHERE kind = 2`,
    );
    expect(Number(rows[0].n)).toBe(620);
  });

  it('never builds a second report for a request: again, or by two replicas at once', async () => {
    const open = Array.from({ length: 700 }, (_, i) => request(i + 1)); // 620 known from above
    const again = await watcher(new FakeNationalNode(open)).round();
    expect(again).toHaveLength(80);

    const more = Array.from({ length: 1_200 }, (_, i) => request(i + 1));
    const [a, b] = await Promise.all([
      watcher(new FakeNationalNode(more)).round(),
      watcher(new FakeNationalNode([...more].reverse())).round(),
    ]);
    expect(a.length + b.length).toBe(500);
    const rows: { requests: string; reports: string }[] = await db.query(
      `SELECT count(DISTINCT special_request_id) AS requests, count(*) AS reports
         FROM node_report WHERE kind = 2`,
    );
    expect(rows[0]).toEqual({ requests: '1200', reports: '1200' });
  });

  it('builds what it listed before the national node failed, then reports the failure', async () => {
    const national = new FakeNationalNode(
      Array.from({ length: 1_100 }, (_, i) => request(5_001 + i)),
    );
    national.failFromCall = 2;
    await expect(watcher(national).round()).rejects.toThrow('national node unavailable');
    const rows: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM node_report WHERE kind = 2 AND special_request_id >= 'SR20261001005001'`,
    );
    expect(Number(rows[0].n)).toBe(1_000);
  });

  it('lists only requests issued since shortly before the newest seen, and all of them every 12th round', async () => {
    const old = new Date(Date.now() - 3_600_000);
    const national = new FakeNationalNode([request(9_001, old)]);
    const subject = watcher(national);
    expect(await subject.round()).toHaveLength(1);
    expect(national.calls[0].issuedSince).toBeUndefined();

    national.open = [...national.open, request(9_002, new Date(old.getTime() + 1_000))];
    expect(await subject.round()).toHaveLength(1);
    expect(fromTimestamp(national.calls[1].issuedSince!)).toEqual(new Date(old.getTime() - 30_000));

    // A request issued long before the newest seen (a very late commit) waits for the full sweep.
    national.open = [...national.open, request(9_003, new Date(old.getTime() - 600_000))];
    for (let round = 2; round < 12; round++) expect(await subject.round()).toEqual([]);
    expect(national.calls.slice(2).every((c) => c.issuedSince !== undefined)).toBe(true);
    expect(await subject.round()).toHaveLength(1);
    expect(national.calls.at(-1)!.issuedSince).toBeUndefined();
  });

  it('builds nothing while the security service is away, and the requests once it is back', async () => {
    const national = new FakeNationalNode([request(990_001), request(990_002)]);
    const subject = watcher(national);
    security.away = true;
    await expect(subject.round()).rejects.toThrow('security unavailable');
    expect(await reports.answeredSpecialRequests(['SR20261001990001'])).toEqual(new Set());
    security.away = false;
    security.asked.length = 0;
    expect(await subject.round()).toHaveLength(2);
    // One question for the shared period: the events changed in it that happened before its end.
    expect(security.asked).toEqual([{ updatedFrom: PERIOD_START, attackTimeTo: PERIOD_END }]);
  });
});
