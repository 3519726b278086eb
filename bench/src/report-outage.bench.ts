// `node --expose-gc bench/run.mjs --child bench/src/report-outage.bench.ts` (after `npm run build`):
// reporting through a national-node outage (issue 9). The BUILT national node mock, resource
// aggregation and reporting run as processes on the bench's own Postgres and nats-server. The mock
// issues REQUESTS special report requests to the node; reporting is started, lists them and builds
// one report each into its outbox; as soon as the first report is built the mock is put in a full
// outage (every NationalNodeService call UNAVAILABLE, through its admin fault switch), so the reports
// are produced and queued while nothing can be delivered. After OUTAGE_MS the outage ends; when a
// third of the reports has arrived, reporting is killed with SIGKILL mid-delivery and started again
// on the same database. The bench then reads the mock's own database: every report received exactly
// once (one per special request, the same ids reporting built, every request answered), and the
// drain time (outage end to the last report received, by the mock's clock) next to the outage length.
//
// Targets, fixed by the issue: every report received by the mock exactly once; the backlog drains in
// at most 2x the outage length. The run counts only if at least 10,000 reports were built while the
// outage was on (else it fails as not showing what it claims).
import { performance } from 'node:perf_hooks';
import { exampleReportPayload } from '@cinode/contracts';
import { createGrpcClient, toTimestamp, type GrpcClient } from '@cinode/grpc';
import { databaseUrl, findFreePort, type StartedPostgres } from '@cinode/local-infra';
import {
  NodeType,
  ReportType,
  type NationalNodeAdminServiceClient,
  type NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  createTestAuth,
  plaintext,
  serviceEntry,
  spawnNodeProcess,
  waitForServing,
  type ServiceProcess,
  type TestAuth,
} from '@cinode/testing';
import { Client } from 'pg';
import { handledByCode, profiling, runCleanups, stopProcess } from './bench-processes';
import { startBenchInfra, waitUntil } from './identifier-fixture';
import { runBench } from './harness';

const REQUESTS = Number(process.env.BENCH_REPORT_REQUESTS ?? 11_500);
const MIN_PRODUCED_IN_OUTAGE = 10_000;
const OUTAGE_MS = Number(process.env.BENCH_OUTAGE_MS ?? 40_000);
const DRAIN_RATIO_MAX = 2;
/** Share of the reports received after the outage at which reporting is killed. */
const KILL_AT_SHARE = 1 / 3;
const ISSUE_CONCURRENCY = 32;
const NODE = {
  nodeKey: 'bench-report-outage',
  name: 'bench node',
  nodeType: NodeType.NODE_TYPE_REGIONAL,
  regionCode: '310000',
  operatorName: 'bench operator',
  endpoint: '',
};

interface Started {
  proc: ServiceProcess;
  address: string;
  metricsPort: number;
}

async function startProcess(
  service: string,
  env: Record<string, string>,
  cleanups: Array<() => unknown>,
  port?: number,
): Promise<Started> {
  const grpcPort = port ?? (await findFreePort());
  const metricsPort = await findFreePort();
  const proc = spawnNodeProcess([...profiling(), serviceEntry(service)], {
    ...env,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
  });
  cleanups.push(() => stopProcess(proc));
  const address = `127.0.0.1:${grpcPort}`;
  await waitForServing(address, 60_000, proc);
  return { proc, address, metricsPort };
}

async function connectDb(postgres: StartedPostgres, database: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl(postgres.adminUrl, database) });
  await client.connect();
  return client;
}

async function count(db: Client, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** Issues `total` special requests through the mock's admin API, `ISSUE_CONCURRENCY` at a time. */
async function issueRequests(
  admin: GrpcClient<NationalNodeAdminServiceClient>,
  nodeCode: string,
  total: number,
): Promise<void> {
  const periodEnd = new Date();
  const periodStart = new Date(periodEnd.getTime() - 24 * 3_600_000);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next += 1;
      await admin.api.issueSpecialReportRequest({
        nodeCode,
        reportTypes: [
          ReportType.REPORT_TYPE_BASE_INFORMATION,
          ReportType.REPORT_TYPE_COMPUTE_INFORMATION,
          ReportType.REPORT_TYPE_SECURITY_INFORMATION,
        ],
        periodStart: toTimestamp(periodStart),
        periodEnd: toTimestamp(periodEnd),
        reason: 'bench: communication-assurance period',
        // Lateness is not what this bench measures.
        deadline: toTimestamp(new Date(Date.now() + 3 * 3_600_000)),
        requestId: '',
      });
    }
  };
  await Promise.all(Array.from({ length: ISSUE_CONCURRENCY }, worker));
}

async function setOutage(
  admin: GrpcClient<NationalNodeAdminServiceClient>,
  outage: boolean,
): Promise<void> {
  await admin.api.setFaultInjection({
    faults: { unavailableRatio: 0, addedLatency: { seconds: 0, nanos: 0 }, outage },
  });
}

async function main(): Promise<boolean> {
  const cleanups: Array<() => unknown> = [];
  const clients: GrpcClient<unknown>[] = [];
  const dbs: Client[] = [];
  try {
    const { postgres, nats } = await startBenchInfra(
      'report-outage',
      ['national_node_mock', 'resource_aggregation', 'security', 'reporting'],
      cleanups,
    );
    const auth: TestAuth = await createTestAuth();
    const keys = {
      AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
      AUTH_SERVICE_SIGNING_KEY: auth.serviceSigningKey,
    };
    const mock = await startProcess(
      'national-node-mock',
      { ...keys, DATABASE_URL: databaseUrl(postgres.adminUrl, 'national_node_mock') },
      cleanups,
    );
    const aggregation = await startProcess(
      'resource-aggregation',
      {
        ...keys,
        DATABASE_URL: databaseUrl(postgres.adminUrl, 'resource_aggregation'),
        NATS_URL: nats.url,
        IDENTIFIER_ADDRESS: '127.0.0.1:9',
      },
      cleanups,
    );
    // Where reporting reads the attack events of each report's period (none in this bench).
    const security = await startProcess(
      'security',
      {
        ...keys,
        DATABASE_URL: databaseUrl(postgres.adminUrl, 'security'),
        NATS_URL: nats.url,
        RESOURCE_AGGREGATION_ADDRESS: aggregation.address,
        SERVICE_CENTER_ADDRESS: '127.0.0.1:9',
      },
      cleanups,
    );
    const operatorToken = await auth.nationalToken(['operator'], 'bench-national-operator');
    const serviceToken = await auth.nationalToken(['service'], 'reporting');
    const admin = createGrpcClient<NationalNodeAdminServiceClient>(
      'cinode.national.v1.NationalNodeAdminService',
      { address: mock.address, credentials: plaintext(), token: () => operatorToken },
    );
    const national = createGrpcClient<NationalNodeServiceClient>(
      'cinode.national.v1.NationalNodeService',
      { address: mock.address, credentials: plaintext(), token: () => serviceToken },
    );
    clients.push(admin, national);
    // The node's registration, as reporting makes it (RegisterNode is idempotent on the key).
    const { node } = await national.api.registerNode(NODE);
    const nodeCode = node!.nodeCode;
    const mockDb = await connectDb(postgres, 'national_node_mock');
    const reportingDb = await connectDb(postgres, 'reporting');
    dbs.push(mockDb, reportingDb);

    let started = performance.now();
    await issueRequests(admin, nodeCode, REQUESTS);
    console.log(
      `issued ${REQUESTS} special report requests to ${nodeCode} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    const reportingPort = await findFreePort();
    const reportingEnv = {
      ...keys,
      DATABASE_URL: databaseUrl(postgres.adminUrl, 'reporting'),
      NATIONAL_NODE_ADDRESS: mock.address,
      RESOURCE_AGGREGATION_ADDRESS: aggregation.address,
      SECURITY_ADDRESS: security.address,
      NODE_KEY: NODE.nodeKey,
      NODE_NAME: NODE.name,
      NODE_REGION_CODE: NODE.regionCode,
      NODE_OPERATOR_NAME: NODE.operatorName,
      REPORT_BASE_INFO_JSON: JSON.stringify(exampleReportPayload().base),
      // A daily window that is not now (CST 03:00-03:01 is UTC 19:00): only special reports here.
      REPORT_WINDOW: '03:00-03:01',
      REPORT_CATCH_UP_WINDOWS: 'false',
      REPORT_GAP_LOOKBACK_DAYS: '0',
    };
    started = performance.now();
    let reporting = await startProcess('reporting', reportingEnv, cleanups, reportingPort);
    const specialReports = () =>
      count(reportingDb, `SELECT count(*) AS n FROM node_report WHERE kind = 2`);
    // Wait for the first report in the outbox (reporting listed the requests), then cut the mock off.
    await waitUntil(
      async () => (await specialReports()) > 0,
      'the first special report built',
      60_000,
      5,
    );
    await setOutage(admin, true);
    const outageStart = new Date();
    const outageStartedAt = performance.now();
    console.log(
      `reporting started and listed the requests; outage on ${((outageStartedAt - started) / 1000).toFixed(1)} s after its start`,
    );
    const receivedBeforeOutage = await count(
      mockDb,
      `SELECT count(*) AS n FROM received_report WHERE node_code = $1`,
      [nodeCode],
    );
    await waitUntil(
      async () => (await specialReports()) >= REQUESTS,
      'every request built into the outbox',
      OUTAGE_MS,
    );
    const producedInOutage = await count(
      reportingDb,
      `SELECT count(*) AS n FROM node_report WHERE kind = 2 AND generated_at >= $1`,
      [outageStart],
    );
    const remaining = OUTAGE_MS - (performance.now() - outageStartedAt);
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    const submitBefore = await handledByCode(mock.metricsPort, 'SubmitReport');
    await setOutage(admin, false);
    const outageEnd = new Date();
    const outageMs = outageEnd.getTime() - outageStart.getTime();
    const failedInOutage = await count(
      reportingDb,
      `SELECT count(*) AS n FROM report_delivery_attempt WHERE outcome = 'failed'`,
    );
    console.log(
      `outage over after ${(outageMs / 1000).toFixed(1)} s: ${producedInOutage} reports built during it, ` +
        `${receivedBeforeOutage} received before it, ${failedInOutage} attempts failed during it`,
    );

    const received = () =>
      count(mockDb, `SELECT count(*) AS n FROM received_report WHERE node_code = $1 AND kind = 2`, [
        nodeCode,
      ]);
    // Kill reporting mid-delivery once a third of the backlog has arrived, and start it again.
    await waitUntil(
      async () => (await received()) >= REQUESTS * KILL_AT_SHARE,
      'a third of the reports received',
      2 * DRAIN_RATIO_MAX * OUTAGE_MS,
      200,
    );
    const inFlight = await count(
      reportingDb,
      `SELECT count(*) AS n FROM report_delivery_attempt WHERE outcome = 'in_flight'`,
    );
    reporting.proc.child.kill('SIGKILL');
    await reporting.proc.exited;
    const killedAt = performance.now();
    const receivedAtKill = await received();
    const killAfterMs = Date.now() - outageEnd.getTime();
    reporting = await startProcess('reporting', reportingEnv, cleanups, reportingPort);
    console.log(
      `reporting SIGKILLed ${(killAfterMs / 1000).toFixed(1)} s after the outage, with ${receivedAtKill} of ${REQUESTS} received and ${inFlight} attempts in flight; ` +
        `serving again after ${((performance.now() - killedAt) / 1000).toFixed(1)} s`,
    );

    const drainLimitMs = DRAIN_RATIO_MAX * outageMs;
    const waitLimitMs = drainLimitMs + 30_000 - (Date.now() - outageEnd.getTime());
    let drained = true;
    try {
      await waitUntil(
        async () => (await received()) >= REQUESTS,
        'every report received',
        waitLimitMs,
        250,
      );
    } catch {
      drained = false;
    }
    const { rows: last } = await mockDb.query<{ at: Date | null }>(
      `SELECT max(received_at) AS at FROM received_report WHERE node_code = $1 AND kind = 2`,
      [nodeCode],
    );
    const drainMs = drained && last[0]?.at ? last[0].at.getTime() - outageEnd.getTime() : Infinity;
    // Let reporting record the last receipts before reading its side.
    await waitUntil(
      async () =>
        (await count(
          reportingDb,
          `SELECT count(*) AS n FROM node_report WHERE kind = 2 AND state <> 'delivered'`,
        )) === 0,
      'reporting to record every receipt',
      30_000,
      100,
    ).catch(() => undefined);

    // The mock's own records: one report per request, the ids reporting built, every request answered.
    const mockSide = await mockDb.query<{
      reports: string;
      requests: string;
      duplicated: string;
      unanswered: string;
    }>(
      `SELECT (SELECT count(*) FROM received_report WHERE node_code = $1 AND kind = 2) AS reports,
              (SELECT count(DISTINCT special_request_id) FROM received_report
                WHERE node_code = $1 AND kind = 2) AS requests,
              (SELECT count(*) FROM (SELECT special_request_id FROM received_report
                WHERE node_code = $1 AND kind = 2 GROUP BY 1 HAVING count(*) > 1) d) AS duplicated,
              (SELECT count(*) FROM special_report_request
                WHERE node_code = $1 AND answered_at IS NULL) AS unanswered`,
      [nodeCode],
    );
    const { rows: mockIds } = await mockDb.query<{ report_id: string; receipt_number: string }>(
      `SELECT report_id, receipt_number FROM received_report WHERE node_code = $1 AND kind = 2`,
      [nodeCode],
    );
    const { rows: builtIds } = await reportingDb.query<{
      report_id: string;
      receipt_number: string | null;
    }>(`SELECT report_id, receipt_number FROM node_report WHERE kind = 2`);
    const receipts = new Map(mockIds.map((r) => [r.report_id, r.receipt_number]));
    const missing = builtIds.filter((r) => !receipts.has(r.report_id)).length;
    const unknown = mockIds.length - (builtIds.length - missing);
    const receiptMismatch = builtIds.filter(
      (r) => receipts.has(r.report_id) && r.receipt_number !== receipts.get(r.report_id),
    ).length;
    const m = mockSide.rows[0];
    const exactlyOnce =
      Number(m.reports) === REQUESTS &&
      Number(m.requests) === REQUESTS &&
      Number(m.duplicated) === 0 &&
      Number(m.unanswered) === 0 &&
      builtIds.length === REQUESTS &&
      missing === 0 &&
      unknown === 0;

    // Retry counts, from reporting's attempt records and the mock's call counters.
    const { rows: attempts } = await reportingDb.query<{
      outcome: string;
      grpc_status: string;
      n: string;
    }>(
      `SELECT outcome, grpc_status, count(*) AS n FROM report_delivery_attempt
        GROUP BY 1, 2 ORDER BY 3 DESC`,
    );
    const { rows: perReport } = await reportingDb.query<{ max: number; avg: string }>(
      `SELECT max(attempts) AS max, avg(attempts)::numeric(10, 2)::text AS avg FROM node_report WHERE kind = 2`,
    );
    const submitAfter = await handledByCode(mock.metricsPort, 'SubmitReport');
    const submitted = [...submitAfter]
      .map(([code, n]) => `${code} ${n - (submitBefore.get(code) ?? 0)}`)
      .join(', ');

    console.log('');
    console.log(
      `reports: ${REQUESTS} special requests, ${builtIds.length} reports built, ${producedInOutage} during the outage`,
    );
    console.log(
      `mock records: ${m.reports} reports received, ${m.requests} distinct requests answered, ` +
        `${m.duplicated} requests with more than one report, ${m.unanswered} unanswered; ` +
        `${missing} built reports missing, ${unknown} unknown reports, ${receiptMismatch} receipts not yet recorded by reporting`,
    );
    console.log(
      `retries: attempts ${attempts.map((a) => `${a.outcome}${a.grpc_status ? `/${a.grpc_status}` : ''} ${a.n}`).join(', ')}; ` +
        `per report max ${perReport[0]?.max ?? 0}, mean ${perReport[0]?.avg ?? '0'}`,
    );
    console.log(`mock SubmitReport calls after the outage: ${submitted || 'none'}`);
    console.log(
      `outage ${(outageMs / 1000).toFixed(1)} s, drain ${Number.isFinite(drainMs) ? (drainMs / 1000).toFixed(1) : 'not finished'} s ` +
        `(${Number.isFinite(drainMs) ? (drainMs / outageMs).toFixed(2) : '-'}x the outage)`,
    );
    const producedOk = producedInOutage >= MIN_PRODUCED_IN_OUTAGE;
    const drainOk = drainMs <= DRAIN_RATIO_MAX * outageMs;
    console.log(
      `target: reports built during the outage >= ${MIN_PRODUCED_IN_OUTAGE}  measured ${producedInOutage}  ${producedOk ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `target: every report received by the mock exactly once  measured ${m.reports}/${REQUESTS} received, ${m.duplicated} duplicated  ${exactlyOnce ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `target: drain <= ${DRAIN_RATIO_MAX}x outage (${((DRAIN_RATIO_MAX * outageMs) / 1000).toFixed(1)} s)  measured ${Number.isFinite(drainMs) ? (drainMs / 1000).toFixed(1) : 'not finished'} s  ${drainOk ? 'PASS' : 'FAIL'}`,
    );
    return producedOk && exactlyOnce && drainOk;
  } finally {
    for (const client of clients) client.close();
    for (const db of dbs) await db.end().catch(() => undefined);
    await runCleanups(cleanups);
  }
}

runBench('report-outage', 600_000, main);
