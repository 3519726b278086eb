import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ClientReadableStream } from '@grpc/grpc-js';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import { OrderState } from '@cinode/proto/gen/cinode/market/v1/market_service';
import {
  Comparison,
  Domain,
  Resolution,
  type ExportCsvResponse,
  type FeedEvent,
  type MonitoringServiceClient,
  type SeriesPoint,
  type WatchFeedResponse,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import {
  ParticipantKind,
  UserCategory,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { PoolState, type Pool } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { Demand } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { bearer, expectGrpcError, spawnNodeProcess, type ServiceProcess } from '@cinode/testing';
import { SETTLE_MS, organisation, registerAndCertify } from './support/market';
import {
  KeyHolder,
  startNode,
  type NodeClients,
  type NodeUnderTest,
} from './support/node-processes';
import { pollUntil } from './support/waiting';

/**
 * Runtime monitoring (issue 9) over the whole built node: real traffic (a provider agent simulating
 * pools, participants certified, a user's demands and order run to completion, the agent stopped
 * and started again) read back through the regulator API as the four domains' series, the
 * indicators, alerts and the live feed, which a regulator leaves mid-stream and resumes from its
 * cursor with nothing missed or repeated.
 */
const AGENT = 'dist/services/provider-agent/src/main.js';
const POOLS = 3;
const MONITORING = 'cinode.monitoring.v1.MonitoringService';

let node: NodeUnderTest;
let api: NodeClients;
let operator: KeyHolder;
let provider: { id: string; apiKey: string };
let agent: ServiceProcess | undefined;
let monitoring: GrpcClient<MonitoringServiceClient>;
let regulator: string;
let operatorToken: string;
let pools: Pool[];

function startAgent(): ServiceProcess {
  return spawnNodeProcess([AGENT, '--simulate', String(POOLS), '--seed', '7'], {
    SERVICE_CENTER_ADDRESS: node.addressOf('cinode.credential.v1.TokenService'),
    RESOURCE_AGGREGATION_ADDRESS: node.addressOf('cinode.resource.v1.ResourceService'),
    PROVIDER_API_KEY: provider.apiKey,
    SNAPSHOT_INTERVAL_MS: '500',
    HEARTBEAT_INTERVAL_MS: '1000',
    ALLOCATION_POLL_MS: '200',
    TASK_START_DELAY_MS: '300',
    TASK_DURATION_MS: '1000',
    LOG_LEVEL: 'warn',
  });
}

async function stopAgent(): Promise<void> {
  if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
  agent = undefined;
}

async function providerPools(): Promise<Pool[]> {
  const { pools: listed } = await api.resources.listPools(
    {
      providerParticipantId: provider.id,
      state: PoolState.POOL_STATE_UNSPECIFIED,
      regionCode: '',
      pageSize: 50,
      pageToken: '',
    },
    await operator.options(),
  );
  return listed;
}

function demandFor(target: Pool, regions: string[]): Demand {
  return {
    poolClass: target.spec!.poolClass,
    acceleratorModel: target.spec!.accelerators[0].model,
    acceleratorCount: 1,
    fp16Tflops: 0,
    fp32Tflops: 0,
    cpuCores: 2,
    memoryGib: 8,
    storageGib: 0,
    durationHours: 1,
    allowedRegions: regions,
    userRegionCode: target.spec!.regionCode,
    userSite: '',
    maxLatencyMs: 0,
    minBandwidthMbps: 0,
    maxPriceFenPerHour: 0,
    minSecurityLevel: 0,
    minRenewableRatio: 0,
    domesticOnly: false,
  };
}

const asRegulator = () => ({ metadata: bearer(regulator) });

async function series(domain: Domain, metric: string, regionCode = ''): Promise<SeriesPoint[]> {
  const points: SeriesPoint[] = [];
  let pageToken = '';
  for (let page = 0; page < 50; page += 1) {
    const response = await monitoring.api.querySeries(
      {
        domain,
        metric,
        regionCode,
        accelerator: '',
        service: '',
        resolution: Resolution.RESOLUTION_MINUTE,
        startTime: undefined,
        endTime: undefined,
        pageSize: 500,
        pageToken,
      },
      asRegulator(),
    );
    points.push(...response.points);
    pageToken = response.nextPageToken;
    if (!pageToken) return points;
  }
  throw new Error('more than 50 pages of points');
}

const sumOf = (points: SeriesPoint[]) => points.reduce((n, p) => n + p.sum, 0);
const countOf = (points: SeriesPoint[]) => points.reduce((n, p) => n + p.count, 0);

/** Waits until the sum of a counter's points reaches `atLeast`. */
async function counted(domain: Domain, metric: string, atLeast: number): Promise<number> {
  const { value } = await pollUntil(
    `${metric} to reach ${atLeast}`,
    async () => sumOf(await series(domain, metric)),
    (n) => n >= atLeast,
    SETTLE_MS,
  );
  return value;
}

async function allEvents(): Promise<FeedEvent[]> {
  const events: FeedEvent[] = [];
  let pageToken = '';
  for (let page = 0; page < 100; page += 1) {
    const response = await monitoring.api.listEvents(
      {
        domain: Domain.DOMAIN_UNSPECIFIED,
        regionCode: '',
        startTime: undefined,
        endTime: undefined,
        pageSize: 500,
        pageToken,
      },
      asRegulator(),
    );
    events.push(...response.events);
    pageToken = response.nextPageToken;
    if (!pageToken) return events;
  }
  throw new Error('more than 100 pages of events');
}

function open<T>(method: 'watchFeed' | 'exportCsv', request: unknown): ClientReadableStream<T> {
  const raw = monitoring.raw as unknown as Record<
    string,
    (r: unknown, m: ReturnType<typeof bearer>, o: { deadline: Date }) => ClientReadableStream<T>
  >;
  return raw[method].call(monitoring.raw, request, bearer(regulator), {
    deadline: new Date(Date.now() + 60_000),
  });
}

/** Collects a stream's messages until `enough` says so (then cancels) or it ends. */
function collect<T>(stream: ClientReadableStream<T>, enough: (all: T[]) => boolean): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const all: T[] = [];
    let done = false;
    stream.on('data', (message: T) => {
      if (done) return;
      all.push(message);
      if (enough(all)) {
        done = true;
        stream.cancel();
        resolve(all);
      }
    });
    stream.on('error', (error: Error & { code?: number }) => {
      if (!done) reject(error);
    });
    stream.on('end', () => {
      if (!done) resolve(all);
    });
  });
}

beforeAll(async () => {
  node = await startNode({ tokenTtlSeconds: 600 });
  api = node.clients;
  monitoring = createGrpcClient<MonitoringServiceClient>(MONITORING, {
    address: node.addressOf(MONITORING),
    credentials: node.credentials,
    defaultTimeoutMs: 10_000,
  });
  regulator = await node.auth.token(['regulator'], 'regulator-e2e');
  operatorToken = await node.auth.token(['operator'], 'operator-e2e');
  operator = new KeyHolder(api.tokens, node.operatorBootstrapKey);
  provider = await registerAndCertify(
    api,
    operator,
    organisation(
      ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
      `Monitored Compute ${randomUUID().slice(0, 8)}`,
    ),
  );
  agent = startAgent();
}, 180_000);

afterAll(async () => {
  monitoring?.close();
  await stopAgent();
  if (node) await node.stop();
}, 30_000);

describe('runtime monitoring over the running node (issue 9)', () => {
  let firstWatch: WatchFeedResponse[] = [];

  it('sees the agent’s pools come online as resource business', async () => {
    ({ value: pools } = await pollUntil(
      `the agent's ${POOLS} pools online`,
      providerPools,
      (list) => list.length === POOLS && list.every((p) => p.state === PoolState.POOL_STATE_ONLINE),
      SETTLE_MS,
    ));
    expect(await counted(Domain.DOMAIN_RESOURCE, 'pools_registered', POOLS)).toBe(POOLS);
    const { value: online } = await pollUntil(
      'a sample with every pool online',
      () => series(Domain.DOMAIN_RESOURCE, 'pools_online', '*'),
      (points) => points.some((p) => p.max === POOLS),
      SETTLE_MS,
    );
    expect(online.every((p) => p.accelerator === '*')).toBe(true);
    const capacity = await series(Domain.DOMAIN_RESOURCE, 'cpu_cores_total', '*');
    expect(capacity.at(-1)?.value).toBeGreaterThan(0);
    // A regulator connects to the feed and reads what is there so far, then drops.
    firstWatch = await collect<WatchFeedResponse>(
      open('watchFeed', { afterCursor: 0, domain: Domain.DOMAIN_UNSPECIFIED, regionCode: '' }),
      (all) => all.length >= 5,
    );
    expect(firstWatch).toHaveLength(5);
  }, 60_000);

  it('follows a user’s demands and order through scheduling, and participants through platform and application', async () => {
    const app = await registerAndCertify(
      api,
      operator,
      organisation(
        ParticipantKind.PARTICIPANT_KIND_APPLICATION_PROVIDER,
        `Monitored Apps ${randomUUID().slice(0, 8)}`,
      ),
    );
    expect(app.id).toBeTruthy();
    const request = organisation(
      ParticipantKind.PARTICIPANT_KIND_USER,
      `Monitored Lab ${randomUUID().slice(0, 8)}`,
    );
    request.userCategory = UserCategory.USER_CATEGORY_RESEARCH_INSTITUTE;
    const user = new KeyHolder(
      api.tokens,
      (await registerAndCertify(api, operator, request)).apiKey,
    );
    const target = pools.find((p) => p.spec!.accelerators.length > 0)!;
    // Selection may need a moment to index the pools: each attempt is a demand of its own.
    let attempts = 0;
    const { value: submitted } = await pollUntil(
      'a demand with candidates',
      async () => {
        attempts += 1;
        return (
          await api.market.submitDemand(
            {
              requestId: randomUUID(),
              customerReference: '',
              demand: demandFor(target, [target.spec!.regionCode]),
              weights: undefined,
              topK: 5,
            },
            await user.options(),
          )
        ).demand!;
      },
      (demand) => demand.selection!.candidates.length > 0,
      SETTLE_MS,
    );
    // No pool anywhere in this region: selection finds no candidate.
    const { demand: none } = await api.market.submitDemand(
      {
        requestId: randomUUID(),
        customerReference: '',
        demand: demandFor(target, ['650000']),
        weights: undefined,
        topK: 5,
      },
      await user.options(),
    );
    expect(none!.selection!.candidates).toHaveLength(0);
    const { order } = await api.market.placeOrder(
      {
        requestId: randomUUID(),
        demandId: submitted.demandId,
        poolId: submitted.selection!.candidates[0].poolId,
      },
      await user.options(),
    );
    await pollUntil(
      'the order to complete',
      async () =>
        (await api.market.getOrder({ orderId: order!.orderId }, await user.options())).order!,
      (o) => o.state === OrderState.ORDER_STATE_COMPLETED,
      SETTLE_MS,
    );

    // Each attempt before the one that found candidates, and the demand for region 650000.
    expect(await counted(Domain.DOMAIN_SCHEDULING, 'demands_without_candidates', attempts)).toBe(
      attempts,
    );
    expect(await counted(Domain.DOMAIN_SCHEDULING, 'demands_with_candidates', 1)).toBe(1);
    expect(await counted(Domain.DOMAIN_SCHEDULING, 'demands_submitted', attempts + 1)).toBe(
      attempts + 1,
    );
    expect(await counted(Domain.DOMAIN_SCHEDULING, 'holds_confirmed', 1)).toBe(1);
    const { value: tasks } = await pollUntil(
      'the task completed',
      () => series(Domain.DOMAIN_SCHEDULING, 'tasks'),
      (points) => points.some((p) => p.kindLabel === 'completed'),
      SETTLE_MS,
    );
    expect(tasks.map((p) => p.kindLabel)).toEqual(expect.arrayContaining(['running', 'completed']));
    const [toAllocation] = await series(Domain.DOMAIN_SCHEDULING, 'demand_to_allocation_ms');
    expect(toAllocation.count).toBe(1);
    expect(toAllocation.value).toBeGreaterThan(0);
    expect(countOf(await series(Domain.DOMAIN_SCHEDULING, 'task_response_ms'))).toBe(1);
    // Three organisations certified here: provider, application provider, user (the bootstrap
    // operator may count too).
    expect(
      await counted(Domain.DOMAIN_PLATFORM, 'participants_certified', 3),
    ).toBeGreaterThanOrEqual(3);
    const byKind = await series(Domain.DOMAIN_PLATFORM, 'participants_certified');
    for (const kind of ['COMPUTE_PROVIDER', 'APPLICATION_PROVIDER', 'USER'])
      expect(sumOf(byKind.filter((p) => p.kindLabel === kind))).toBe(1);
    expect(
      await counted(Domain.DOMAIN_PLATFORM, 'identifiers_filed', POOLS),
    ).toBeGreaterThanOrEqual(POOLS);
    expect(await counted(Domain.DOMAIN_APPLICATION, 'application_providers_certified', 1)).toBe(1);
    await pollUntil(
      'the active application provider sampled',
      () => series(Domain.DOMAIN_APPLICATION, 'application_providers_active'),
      (points) => points.some((p) => p.max === 1),
      SETTLE_MS,
    );
    // API calls scraped from the services' own metrics: the market's calls at the service center.
    const { value: calls } = await pollUntil(
      'the service center’s API calls scraped',
      () => series(Domain.DOMAIN_PLATFORM, 'api_calls'),
      (points) => sumOf(points.filter((p) => p.service === 'service-center')) > 0,
      SETTLE_MS,
    );
    expect(new Set(calls.map((p) => p.service))).toEqual(
      new Set([
        'service-center',
        'identifier',
        'national-node-mock',
        'resource-aggregation',
        'compute-selection',
        'reporting',
        'runtime-monitoring',
        'security',
      ]),
    );
  }, 120_000);

  it('discovers the pools’ fault when the agent stops, raises an alert, and times the recovery', async () => {
    const rule = {
      ruleId: 'pools-stale',
      domain: Domain.DOMAIN_RESOURCE,
      metric: 'pools_stale',
      regionCode: '*',
      accelerator: '',
      service: '',
      comparison: Comparison.COMPARISON_ABOVE,
      threshold: 0,
      forMinutes: 1,
      severity: 'warning',
      description: 'pools stopped reporting',
      updatedAt: undefined,
    };
    await monitoring.api.putAlertRule(
      { requestId: randomUUID(), rule },
      { metadata: bearer(operatorToken) },
    );
    await stopAgent();
    expect(await counted(Domain.DOMAIN_RESOURCE, 'pools_went_stale', POOLS)).toBe(POOLS);
    const { value: alerts } = await pollUntil(
      'the stale-pools alert',
      async () =>
        (
          await monitoring.api.listAlerts(
            { firingOnly: true, pageSize: 10, pageToken: '' },
            asRegulator(),
          )
        ).alerts,
      (list) => list.some((a) => a.ruleId === rule.ruleId),
      SETTLE_MS,
    );
    expect(alerts.find((a) => a.ruleId === rule.ruleId)?.value).toBeGreaterThan(0);
    agent = startAgent();
    expect(await counted(Domain.DOMAIN_RESOURCE, 'pools_recovered', POOLS)).toBe(POOLS);
    const discovery = await series(Domain.DOMAIN_RESOURCE, 'fault_discovery_ms');
    // Stale after 5 s without a report (the e2e node's POOL_STALE_AFTER_SECONDS).
    expect(countOf(discovery)).toBe(POOLS);
    expect(Math.min(...discovery.map((p) => p.min))).toBeGreaterThanOrEqual(4_900);
    expect(countOf(await series(Domain.DOMAIN_RESOURCE, 'fault_recovery_ms'))).toBe(POOLS);
  }, 120_000);

  it('derives the indicators regulators ask about', async () => {
    const { value: indicators } = await pollUntil(
      'indicators with every pool back online',
      () =>
        monitoring.api.getIndicators({ startTime: undefined, endTime: undefined }, asRegulator()),
      (i) => i.poolsOnline === POOLS,
      SETTLE_MS,
    );
    expect(indicators.services.map((s) => s.service)).toContain('resource-aggregation');
    for (const service of indicators.services) {
      expect(service.availability).toBeGreaterThan(0.5);
      expect(service.samples).toBeGreaterThan(0);
    }
    const center = indicators.services.find((s) => s.service === 'service-center')!;
    expect(center.apiCalls).toBeGreaterThan(0);
    expect(center.apiLatencyMeanMs).toBeGreaterThan(0);
    expect(indicators.taskResponse?.count).toBe(1);
    expect(indicators.demandToAllocation?.count).toBe(1);
    expect(indicators.faultDiscovery?.count).toBe(POOLS);
    expect(indicators.faultRecovery?.count).toBe(POOLS);
    expect(indicators.gpuCardsTotal + indicators.npuCardsTotal).toBeGreaterThan(0);
    expect(indicators.cpuCoresTotal).toBeGreaterThan(0);
    expect(indicators.cpuUtilisation).toBeGreaterThanOrEqual(0);
    expect(indicators.cpuUtilisation).toBeLessThanOrEqual(1);
    expect(indicators.alertsRaised).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('resumes the regulator’s feed from its cursor with no event missed or repeated', async () => {
    const listed = await allEvents();
    const lastSeen = firstWatch.at(-1)!.event!.cursor;
    const resumed = await collect<WatchFeedResponse>(
      open('watchFeed', {
        afterCursor: lastSeen,
        domain: Domain.DOMAIN_UNSPECIFIED,
        regionCode: '',
      }),
      (all) => all.length >= listed.length - firstWatch.length,
    );
    // One entry per cursor (an event about several pools is an entry per pool, same event id).
    const watched = [...firstWatch, ...resumed].map((m) => [
      m.event!.cursor,
      m.event!.eventId,
      m.event!.objectId,
    ]);
    expect(watched).toEqual(listed.map((e) => [e.cursor, e.eventId, e.objectId]));
    expect(new Set(watched.map(([cursor]) => cursor)).size).toBe(watched.length);
    const types = new Set(listed.map((e) => e.type));
    for (const type of [
      'cinode.participant.participant.certified',
      'cinode.resource.pool.stale',
      'cinode.market.demand.submitted',
      'cinode.market.order.completed',
      'cinode.resource.allocation.state-changed',
      'cinode.monitoring.alert.raised',
    ])
      expect(types).toContain(type);
  }, 60_000);

  it('exports a series query as CSV, header first, a record per point', async () => {
    const points = await series(Domain.DOMAIN_RESOURCE, 'pools_online');
    const chunks = await collect<ExportCsvResponse>(
      open('exportCsv', {
        series: {
          domain: Domain.DOMAIN_RESOURCE,
          metric: 'pools_online',
          regionCode: '',
          accelerator: '',
          service: '',
          resolution: Resolution.RESOLUTION_MINUTE,
          pageSize: 0,
          pageToken: '',
        },
      }),
      () => false,
    );
    const lines = Buffer.concat(chunks.map((c) => Buffer.from(c.chunk)))
      .toString('utf8')
      .split('\r\n')
      .filter(Boolean);
    expect(lines[0]).toBe(
      'domain,metric,kind,region_code,accelerator,service,kind_label,bucket_start,value,count,sum,min,max,last',
    );
    // Samples keep arriving: at least the points read before the export.
    expect(lines.length - 1).toBeGreaterThanOrEqual(points.length);
  }, 30_000);

  it('refuses the regulator every RPC that changes something (PERMISSION_DENIED)', async () => {
    const rule = {
      ruleId: 'regulator-rule',
      domain: Domain.DOMAIN_PLATFORM,
      metric: 'api_errors',
      regionCode: '',
      accelerator: '',
      service: '',
      comparison: Comparison.COMPARISON_ABOVE,
      threshold: 10,
      forMinutes: 5,
      severity: 'critical',
      description: '',
      updatedAt: undefined,
    };
    await expectGrpcError(
      monitoring.api.putAlertRule({ requestId: randomUUID(), rule }, asRegulator()),
      GrpcStatus.PERMISSION_DENIED,
    );
    await expectGrpcError(
      monitoring.api.deleteAlertRule(
        { requestId: randomUUID(), ruleId: 'pools-stale' },
        asRegulator(),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    // The operator's rule is still there; the operator removes it.
    const { rules } = await monitoring.api.listAlertRules({}, asRegulator());
    expect(rules.map((r) => r.ruleId)).toContain('pools-stale');
    await monitoring.api.deleteAlertRule(
      { requestId: randomUUID(), ruleId: 'pools-stale' },
      { metadata: bearer(operatorToken) },
    );
  });
});
