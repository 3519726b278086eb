import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  CST_OFFSET_MS,
  REPORT_SCHEMA_VERSION,
  cstDateOf,
  exampleReportPayload,
  reportPayloadViolations,
  windowAt,
} from '@cinode/contracts';
import { createGrpcClient, fromTimestamp, toTimestamp, type PromiseClient } from '@cinode/grpc';
import {
  AttemptOutcome,
  ReportKind,
  ReportState,
  type ReportingServiceClient,
} from '@cinode/proto/gen/cinode/reporting/v1/reporting_service';
import type { AuditServiceClient } from '@cinode/proto/gen/cinode/audit/v1/audit_service';
import {
  bearer,
  createTestAuth,
  createTestDatabase,
  expectGrpcError,
  findFreePort,
  plaintext,
  spawnService,
  startTestNats,
  waitForServing,
  type ServiceProcess,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import {
  ReportKind as NationalReportKind,
  ReportType,
  SpecialRequestState,
  type NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { startNode, type NodeUnderTest } from './support/node-processes';
import { pollUntil } from './support/waiting';

/**
 * The reporting service in the whole node, through gRPC only. The national node mock starts in a
 * full outage (FAULT_OUTAGE); the reporting window is set to the current half hour (CST), so the
 * daily report is built at once and its delivery fails until the test lifts the outage. Then it
 * must arrive exactly once, signed, valid against the mock's strict schema, with every attempt
 * recorded; a resend brings the same receipt and no second copy; a tampered signature is refused.
 */
let node: NodeUnderTest;
let reporting: PromiseClient<ReportingServiceClient>;
let reportingAudit: PromiseClient<AuditServiceClient>;
let operatorToken: string;
let regulatorToken: string;
let nationalOperatorToken: string;
let nationalServiceToken: string;

/** "HH:MM-HH:MM" from the start of the current CST minute to 30 minutes on (or midnight). */
function windowCoveringNow(): string {
  const minuteOfDay = Math.floor(((Date.now() + CST_OFFSET_MS) % 86_400_000) / 60_000);
  const end = Math.min(minuteOfDay + 30, 24 * 60);
  const hhmm = (m: number) =>
    `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `${hhmm(minuteOfDay)}-${hhmm(end)}`;
}

beforeAll(async () => {
  node = await startNode({
    tokenTtlSeconds: 600,
    env: {
      FAULT_OUTAGE: 'true',
      REPORT_WINDOW: windowCoveringNow(),
      REPORT_SCHEDULE_INTERVAL_MS: '300',
      DELIVERY_POLL_MS: '100',
      DELIVERY_RETRY_INITIAL_MS: '200',
      DELIVERY_RETRY_MAX_MS: '800',
      NATIONAL_NODE_TIMEOUT_MS: '2000',
    },
  });
  const address = node.addressOf('cinode.reporting.v1.ReportingService');
  const reportingClient = createGrpcClient<ReportingServiceClient>(
    'cinode.reporting.v1.ReportingService',
    { address, credentials: node.credentials },
  );
  const auditClient = createGrpcClient<AuditServiceClient>('cinode.audit.v1.AuditService', {
    address,
    credentials: node.credentials,
  });
  reporting = reportingClient.api;
  reportingAudit = auditClient.api;
  operatorToken = await node.auth.token(['operator'], 'e2e-reporting-operator');
  regulatorToken = await node.auth.token(['regulator'], 'e2e-reporting-regulator');
  nationalOperatorToken = await node.nationalToken(['operator']);
  nationalServiceToken = await node.nationalToken(['service']);
  const stop = node.stop;
  node.stop = async () => {
    reportingClient.close();
    auditClient.close();
    return stop();
  };
}, 180_000);

afterAll(async () => {
  await node?.stop();
});

const asOperator = () => ({ metadata: bearer(operatorToken) });

describe('reporting in the node', () => {
  it('delivers the daily report exactly once through an outage, signed and valid', async () => {
    // 1. Built inside the window while the national node refuses everything: pending, retried.
    const { value: pending } = await pollUntil(
      'the daily report retried during the outage',
      () =>
        reporting.listReports(
          { state: ReportState.REPORT_STATE_UNSPECIFIED, pageSize: 10, pageToken: '' },
          asOperator(),
        ),
      (r) =>
        r.reports.length === 1 &&
        r.reports[0].state === ReportState.REPORT_STATE_PENDING &&
        r.reports[0].attempts >= 3,
      30_000,
    );
    const report = pending.reports[0];
    expect(report).toMatchObject({
      kind: ReportKind.REPORT_KIND_DAILY,
      reportDate: cstDateOf(fromTimestamp(report.generatedAt!)),
      schemaVersion: REPORT_SCHEMA_VERSION,
      receiptNumber: '',
    });
    expect(report.lastError).not.toBe('');

    // 2. The outage ends: the report arrives, once.
    await node.clients.nationalAdmin.setFaultInjection(
      { faults: { unavailableRatio: 0, addedLatency: { seconds: 0, nanos: 0 }, outage: false } },
      { metadata: bearer(nationalOperatorToken) },
    );
    const { value: delivered } = await pollUntil(
      'the report delivered after the outage',
      () => reporting.getReport({ reportId: report.reportId }, asOperator()),
      (r) => r.report?.state === ReportState.REPORT_STATE_DELIVERED,
      30_000,
    );
    expect(delivered.report!.receiptNumber).toMatch(/^RR\d{14}$/);
    const outcomes = delivered.attempts.map((a) => a.outcome);
    expect(outcomes.at(-1)).toBe(AttemptOutcome.ATTEMPT_OUTCOME_DELIVERED);
    expect(outcomes.slice(0, -1).length).toBeGreaterThanOrEqual(3);
    for (const attempt of delivered.attempts.slice(0, -1)) {
      expect(attempt).toMatchObject({
        outcome: AttemptOutcome.ATTEMPT_OUTCOME_FAILED,
        grpcStatus: 'UNAVAILABLE',
      });
    }
    expect(delivered.attempts.map((a) => a.attempt)).toEqual(
      delivered.attempts.map((_, i) => i + 1),
    );
    expect(delivered.report!.attempts).toBe(delivered.attempts.length);

    // 3. The national node holds it once, byte for byte, signed with the registered key.
    const national = node.clients.national;
    const nationalRead = { metadata: bearer(nationalOperatorToken) };
    const received = await national.getReport({ reportId: report.reportId }, nationalRead);
    expect(received.report!.receiptNumber).toBe(delivered.report!.receiptNumber);
    expect(Buffer.from(received.report!.payload)).toEqual(Buffer.from(delivered.payload));
    expect(received.report!.signingKeyId).toMatch(/^[0-9a-f]{64}$/);
    const nodeCode = received.report!.nodeCode;
    const listed = await national.listReports(
      { nodeCode, kind: 0, pageSize: 500, pageToken: '' },
      nationalRead,
    );
    expect(listed.reports.map((r) => r.reportId)).toEqual([report.reportId]);

    // 4. Every seed-004 field is there: the same shape as the complete example, and valid.
    const payload = JSON.parse(Buffer.from(delivered.payload).toString('utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    expect(reportPayloadViolations(REPORT_SCHEMA_VERSION, payload)).toEqual([]);
    const example = exampleReportPayload();
    expect(Object.keys(payload).sort()).toEqual(Object.keys(example).sort());
    expect(Object.keys(payload['base']).sort()).toEqual(Object.keys(example.base).sort());
    expect(Object.keys(payload['compute']).sort()).toEqual(Object.keys(example.compute).sort());
    expect(payload['security']).toEqual({ attack_events: [] });

    // 5. The mock's timing record agrees with when it received the report.
    const receivedAt = fromTimestamp(received.report!.receivedAt!);
    const { days } = await national.listReportingCompliance(
      { nodeCode, startDate: cstDateOf(receivedAt), endDate: '' },
      nationalRead,
    );
    const window = windowAt(receivedAt)?.name;
    expect(days[0].met).toBe(window !== undefined);
    expect(days[0].windows.find((w) => w.onTime)?.firstReportId ?? '').toBe(
      window === undefined ? '' : report.reportId,
    );

    // 6. A resend of a delivered report answers it as it is, receipt and attempts unchanged, and
    //    makes no second copy.
    const resent = await reporting.resendReport(
      { reportId: report.reportId, requestId: 'e2e-resend-1' },
      asOperator(),
    );
    expect(resent.report!.state).toBe(ReportState.REPORT_STATE_DELIVERED);
    expect(resent.report!.receiptNumber).toBe(delivered.report!.receiptNumber);
    const again = await reporting.getReport({ reportId: report.reportId }, asOperator());
    expect(again.report!.state).toBe(ReportState.REPORT_STATE_DELIVERED);
    expect(again.attempts).toHaveLength(delivered.attempts.length);
    const relisted = await national.listReports(
      { nodeCode, kind: 0, pageSize: 500, pageToken: '' },
      nationalRead,
    );
    expect(relisted.reports.map((r) => r.reportId)).toEqual([report.reportId]);
    const audit = await reportingAudit.listAuditRecords(
      {
        pageSize: 50,
        pageToken: '',
        actor: '',
        objectType: 'report',
        objectId: report.reportId,
        method: '',
        outcome: '',
        startTime: undefined,
        endTime: undefined,
      },
      asOperator(),
    );
    expect(
      audit.records.filter(
        (r) => r.method.endsWith('/ResendReport') && r.objectId === report.reportId,
      ),
    ).toHaveLength(1);

    // 7. A tampered signature or payload is refused by the national node.
    const signed = {
      reportId: report.reportId,
      nodeCode,
      kind: received.report!.kind,
      specialRequestId: '',
      periodStart: received.report!.periodStart,
      periodEnd: received.report!.periodEnd,
      generatedAt: received.report!.generatedAt,
      schemaVersion: received.report!.schemaVersion,
      contentType: received.report!.contentType,
      payload: Buffer.from(received.report!.payload),
      signingKeyId: received.report!.signingKeyId,
    };
    const forged = Buffer.alloc(64, 7);
    const badSignature = await expectGrpcError(
      national.submitReport(
        { ...signed, signature: forged },
        { metadata: bearer(nationalServiceToken) },
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(badSignature.status?.errorInfo?.reason).toBe('SIGNATURE_INVALID');
  }, 120_000);

  it('answers a special report request within a minute, and the mock records it on time', async () => {
    const nationalRead = { metadata: bearer(nationalOperatorToken) };
    await node.clients.nationalAdmin.setFaultInjection(
      { faults: { unavailableRatio: 0, addedLatency: { seconds: 0, nanos: 0 }, outage: false } },
      nationalRead,
    );
    // The node's code at the national node: the one its reporting service registered.
    const { value: daily } = await pollUntil(
      "the node's daily report at the national node",
      () =>
        node.clients.national.listReports(
          { nodeCode: '', kind: NationalReportKind.REPORT_KIND_DAILY, pageSize: 10, pageToken: '' },
          nationalRead,
        ),
      (r) => r.reports.length > 0,
      30_000,
    );
    const nodeCode = daily.reports[0].nodeCode;

    // A regulator may not issue one; the national node's operator does (deadline: one minute).
    await expectGrpcError(
      node.clients.nationalAdmin.issueSpecialReportRequest(
        {
          nodeCode,
          reportTypes: [ReportType.REPORT_TYPE_COMPUTE_INFORMATION],
          periodStart: toTimestamp(new Date(Date.now() - 3_600_000)),
          periodEnd: toTimestamp(new Date()),
          reason: 'regulator attempt',
          deadline: undefined,
          requestId: '',
        },
        { metadata: bearer(await node.nationalToken(['regulator'])) },
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    const periodEnd = new Date();
    const { request } = await node.clients.nationalAdmin.issueSpecialReportRequest(
      {
        nodeCode,
        reportTypes: [
          ReportType.REPORT_TYPE_BASE_INFORMATION,
          ReportType.REPORT_TYPE_COMPUTE_INFORMATION,
          ReportType.REPORT_TYPE_SECURITY_INFORMATION,
        ],
        periodStart: toTimestamp(new Date(periodEnd.getTime() - 24 * 3_600_000)),
        periodEnd: toTimestamp(periodEnd),
        reason: '重要通信保障期',
        deadline: undefined,
        requestId: 'e2e-special-1',
      },
      nationalRead,
    );
    const issued = request!;
    const issuedAt = fromTimestamp(issued.issuedAt!);
    expect(fromTimestamp(issued.deadline!).getTime() - issuedAt.getTime()).toBe(60_000);

    // The mock's own record: answered, by its deadline.
    const { value: listed } = await pollUntil(
      'the special request answered',
      () =>
        node.clients.national.listSpecialReportRequests(
          {
            nodeCode,
            state: SpecialRequestState.SPECIAL_REQUEST_STATE_ANSWERED,
            issuedSince: undefined,
            pageSize: 50,
            pageToken: '',
          },
          nationalRead,
        ),
      (r) => r.requests.some((q) => q.specialRequestId === issued.specialRequestId),
      60_000,
    );
    const answered = listed.requests.find((q) => q.specialRequestId === issued.specialRequestId)!;
    expect(answered.onTime).toBe(true);
    expect(fromTimestamp(answered.answeredAt!).getTime() - issuedAt.getTime()).toBeLessThan(60_000);

    // The report the node built answers it: kind SPECIAL, its id and period, valid, received once.
    const received = await node.clients.national.getReport(
      { reportId: answered.answeredReportId },
      nationalRead,
    );
    expect(received.report).toMatchObject({
      nodeCode,
      kind: NationalReportKind.REPORT_KIND_SPECIAL,
      specialRequestId: issued.specialRequestId,
      periodStart: issued.periodStart,
      periodEnd: issued.periodEnd,
    });
    expect(
      reportPayloadViolations(
        REPORT_SCHEMA_VERSION,
        JSON.parse(Buffer.from(received.report!.payload).toString('utf8')),
      ),
    ).toEqual([]);
    const specials = await node.clients.national.listReports(
      { nodeCode, kind: NationalReportKind.REPORT_KIND_SPECIAL, pageSize: 500, pageToken: '' },
      nationalRead,
    );
    expect(
      specials.reports.filter((r) => r.specialRequestId === issued.specialRequestId),
    ).toHaveLength(1);
    const { value: ours } = await pollUntil(
      'the special report delivered in the node',
      () => reporting.getReport({ reportId: answered.answeredReportId }, asOperator()),
      (r) => r.report?.state === ReportState.REPORT_STATE_DELIVERED,
      15_000,
    );
    expect(ours.report).toMatchObject({
      kind: ReportKind.REPORT_KIND_SPECIAL,
      specialRequestId: issued.specialRequestId,
      window: 'special',
      receiptNumber: received.report!.receiptNumber,
    });

    // The compliance listing counts it on time.
    const { days } = await node.clients.national.listReportingCompliance(
      { nodeCode, startDate: cstDateOf(issuedAt), endDate: '' },
      nationalRead,
    );
    expect(days[0]).toMatchObject({
      specialRequestsIssued: 1,
      specialRequestsOnTime: 1,
      specialRequestsLate: 0,
      specialRequestsOpen: 0,
      specialRequestsMet: true,
    });
  }, 120_000);

  it('lets a regulator read reports but not resend them', async () => {
    const regulator = { metadata: bearer(regulatorToken) };
    const { reports } = await reporting.listReports(
      { state: ReportState.REPORT_STATE_UNSPECIFIED, pageSize: 10, pageToken: '' },
      regulator,
    );
    expect(reports.length).toBeGreaterThan(0);
    await reporting.getReport({ reportId: reports[0].reportId }, regulator);
    await expectGrpcError(
      reporting.resendReport({ reportId: reports[0].reportId, requestId: '' }, regulator),
      GrpcStatus.PERMISSION_DENIED,
    );
  });

  it('names bad input and refuses unknown reports', async () => {
    const invalid = await expectGrpcError(
      reporting.getReport({ reportId: 'not-a-uuid' }, asOperator()),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(invalid.status?.fieldViolations.map((v) => v.field)).toEqual(['report_id']);
    const missing = await expectGrpcError(
      reporting.resendReport(
        { reportId: '00000000-0000-4000-8000-000000000000', requestId: '' },
        asOperator(),
      ),
      GrpcStatus.NOT_FOUND,
    );
    expect(missing.status?.errorInfo?.reason).toBe('REPORT_NOT_FOUND');
    await expectGrpcError(
      reporting.listReports(
        { state: 99 as ReportState, pageSize: 10, pageToken: '' },
        asOperator(),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
  });
});

/**
 * A window that closed today before the node started: no report can be built any more, and the
 * day shows as a gap (MISSED, with the reason), never as silence. There is nothing to resend.
 */
describe('reporting in a node started after its window', () => {
  let late: NodeUnderTest;
  let client: ReturnType<typeof createGrpcClient<ReportingServiceClient>>;

  beforeAll(async () => {
    // The first minute of the CST day is over by then (at most a two-minute wait after midnight).
    await pollUntil(
      'the first minutes of the CST day to pass',
      () => Promise.resolve(Math.floor(((Date.now() + CST_OFFSET_MS) % 86_400_000) / 60_000)),
      (minute) => minute >= 2,
      150_000,
    );
    late = await startNode({
      tokenTtlSeconds: 600,
      env: {
        REPORT_WINDOW: '00:00-00:01',
        // Only this window: a later national one would still take the day's report.
        REPORT_CATCH_UP_WINDOWS: 'false',
        REPORT_SCHEDULE_INTERVAL_MS: '300',
      },
    });
    client = createGrpcClient<ReportingServiceClient>('cinode.reporting.v1.ReportingService', {
      address: late.addressOf('cinode.reporting.v1.ReportingService'),
      credentials: late.credentials,
    });
  }, 240_000);

  afterAll(async () => {
    client?.close();
    await late?.stop();
  });

  it('records the missed window as a gap that cannot be resent', async () => {
    const operator = { metadata: bearer(await late.auth.token(['operator'], 'e2e-late-operator')) };
    const { value } = await pollUntil(
      'the gap of the missed window',
      () =>
        client.api.listReports(
          { state: ReportState.REPORT_STATE_MISSED, pageSize: 10, pageToken: '' },
          operator,
        ),
      (r) => r.reports.length === 1,
      15_000,
    );
    const gap = value.reports[0];
    expect(gap).toMatchObject({
      kind: ReportKind.REPORT_KIND_DAILY,
      reportDate: cstDateOf(new Date()),
      window: '00:00-00:01',
      state: ReportState.REPORT_STATE_MISSED,
      payloadSize: 0,
      attempts: 0,
      receiptNumber: '',
    });
    expect(gap.lastError).toMatch(/no report was built in the day's windows/);
    const all = await client.api.listReports(
      { state: ReportState.REPORT_STATE_UNSPECIFIED, pageSize: 10, pageToken: '' },
      operator,
    );
    expect(all.reports.map((r) => r.reportId)).toEqual([gap.reportId]);
    const refused = await expectGrpcError(
      client.api.resendReport({ reportId: gap.reportId, requestId: '' }, operator),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(refused.status?.errorInfo?.reason).toBe('REPORT_MISSED');
  });
});

/**
 * A crash mid-delivery loses nothing and duplicates nothing. The national node mock, resource
 * aggregation and reporting run as processes of this test's own; the mock adds 1.5 s to every call,
 * so reporting is killed (SIGKILL) while its submission is in flight. Started again on the same
 * database, it finds the attempt interrupted, takes the report again once the lease has run out,
 * and the mock holds it exactly once.
 */
describe('reporting killed mid-delivery', () => {
  const procs: ServiceProcess[] = [];
  let nats: TestNats;
  let auth: TestAuth;
  let reportingEnv: Record<string, string>;
  let reportingAddress: string;
  let mockAddress: string;

  async function launch(service: string, env: Record<string, string>, address: string) {
    const proc = spawnService(service, env);
    procs.push(proc);
    await waitForServing(address, 60_000, proc);
    return proc;
  }

  beforeAll(async () => {
    nats = await startTestNats();
    auth = await createTestAuth();
    const common = {
      AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
      AUTH_SERVICE_SIGNING_KEY: auth.serviceSigningKey,
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '1000',
    };
    const [mockPort, resourcePort, securityPort, reportingPort] = [
      await findFreePort(),
      await findFreePort(),
      await findFreePort(),
      await findFreePort(),
    ];
    mockAddress = `127.0.0.1:${mockPort}`;
    reportingAddress = `127.0.0.1:${reportingPort}`;
    await launch(
      'national-node-mock',
      {
        ...common,
        DATABASE_URL: await createTestDatabase('e2e_crash_national'),
        GRPC_PORT: String(mockPort),
        FAULT_LATENCY_MS: '1500',
      },
      mockAddress,
    );
    await launch(
      'resource-aggregation',
      {
        ...common,
        DATABASE_URL: await createTestDatabase('e2e_crash_resource'),
        GRPC_PORT: String(resourcePort),
        NATS_URL: nats.url,
        IDENTIFIER_ADDRESS: '127.0.0.1:1',
      },
      `127.0.0.1:${resourcePort}`,
    );
    await launch(
      'security',
      {
        ...common,
        DATABASE_URL: await createTestDatabase('e2e_crash_security'),
        GRPC_PORT: String(securityPort),
        NATS_URL: nats.url,
        // Its projections' backfill finds no service center here (it logs and retries).
        RESOURCE_AGGREGATION_ADDRESS: `127.0.0.1:${resourcePort}`,
        SERVICE_CENTER_ADDRESS: '127.0.0.1:1',
      },
      `127.0.0.1:${securityPort}`,
    );
    const baseInfo = exampleReportPayload().base;
    reportingEnv = {
      ...common,
      DATABASE_URL: await createTestDatabase('e2e_crash_reporting'),
      GRPC_PORT: String(reportingPort),
      NATIONAL_NODE_ADDRESS: mockAddress,
      RESOURCE_AGGREGATION_ADDRESS: `127.0.0.1:${resourcePort}`,
      SECURITY_ADDRESS: `127.0.0.1:${securityPort}`,
      NODE_KEY: `e2e-crash-${reportingPort}`,
      REPORT_BASE_INFO_JSON: JSON.stringify(baseInfo),
      REPORT_WINDOW: windowCoveringNow(),
      REPORT_SCHEDULE_INTERVAL_MS: '300',
      DELIVERY_POLL_MS: '100',
      DELIVERY_RETRY_INITIAL_MS: '200',
      DELIVERY_RETRY_MAX_MS: '800',
      NATIONAL_NODE_TIMEOUT_MS: '2000',
    };
    await launch('reporting', reportingEnv, reportingAddress);
  }, 180_000);

  afterAll(async () => {
    for (const proc of procs) {
      if (proc.child.exitCode === null && proc.child.signalCode === null)
        proc.child.kill('SIGTERM');
      await proc.exited;
    }
    await nats?.stop();
  });

  it('delivers the report once after a SIGKILL during its submission', async () => {
    const operator = { metadata: bearer(await auth.token(['operator'], 'e2e-crash-operator')) };
    const first = createGrpcClient<ReportingServiceClient>('cinode.reporting.v1.ReportingService', {
      address: reportingAddress,
      credentials: plaintext(),
    });
    const { value: inFlight } = await pollUntil(
      'a submission in flight',
      async () => {
        const { reports } = await first.api.listReports(
          { state: ReportState.REPORT_STATE_UNSPECIFIED, pageSize: 10, pageToken: '' },
          operator,
        );
        return reports[0]
          ? await first.api.getReport({ reportId: reports[0].reportId }, operator)
          : undefined;
      },
      (r) =>
        r?.attempts.at(-1)?.outcome === AttemptOutcome.ATTEMPT_OUTCOME_IN_FLIGHT &&
        r.report?.state === ReportState.REPORT_STATE_PENDING,
      30_000,
    );
    first.close();
    const victim = procs.at(-1)!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const reportId = inFlight!.report!.reportId;

    await launch('reporting', reportingEnv, reportingAddress);
    const second = createGrpcClient<ReportingServiceClient>(
      'cinode.reporting.v1.ReportingService',
      {
        address: reportingAddress,
        credentials: plaintext(),
      },
    );
    try {
      const { value: delivered } = await pollUntil(
        'the report delivered after the restart',
        () => second.api.getReport({ reportId }, operator),
        (r) => r.report?.state === ReportState.REPORT_STATE_DELIVERED,
        60_000,
      );
      const outcomes = delivered.attempts.map((a) => a.outcome);
      expect(outcomes.at(-1)).toBe(AttemptOutcome.ATTEMPT_OUTCOME_DELIVERED);
      expect(outcomes).toContain(AttemptOutcome.ATTEMPT_OUTCOME_INTERRUPTED);
      expect(outcomes).not.toContain(AttemptOutcome.ATTEMPT_OUTCOME_IN_FLIGHT);

      const national = createGrpcClient<NationalNodeServiceClient>(
        'cinode.national.v1.NationalNodeService',
        { address: mockAddress, credentials: plaintext() },
      );
      try {
        const read = { metadata: bearer(await auth.nationalToken(['operator'])) };
        const received = await national.api.getReport({ reportId }, read);
        expect(received.report!.receiptNumber).toBe(delivered.report!.receiptNumber);
        const { reports } = await national.api.listReports(
          { nodeCode: received.report!.nodeCode, kind: 0, pageSize: 500, pageToken: '' },
          read,
        );
        expect(reports.map((r) => r.reportId)).toEqual([reportId]);
      } finally {
        national.close();
      }
    } finally {
      second.close();
    }
  }, 120_000);
});
