import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  AllocationCreated,
  DemandSubmitted,
  IdentifierIssued,
  OrderConfirmed,
  OrderPlaced,
  ParticipantCertified,
  ParticipantRegistered,
  PoolRegistered,
  PoolStale,
  PoolsReported,
  PoolUpdated,
  TaskStateChanged,
  type AllocationData,
  type OrderEventData,
  type ParticipantEventData,
  type PoolData,
} from '@cinode/contracts';
import type { GrpcClient } from '@cinode/grpc';
import { metricsRegistry } from '@cinode/telemetry';
import { fromTimestamp } from '@cinode/grpc';
import {
  Comparison,
  Domain,
  type ExportCsvResponse,
  type Resolution,
  type FeedEvent,
  type MonitoringServiceClient,
  type SeriesPoint,
  type WatchFeedResponse,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import {
  bearer,
  createTestAuth,
  createTestDatabase,
  EventPublisher,
  eventually,
  expectGrpcError,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import {
  monitoringClient,
  openStream,
  readMessages,
  startMonitoring,
  type MonitoringUnderTest,
} from './monitoring-harness';

let nats: TestNats;
let auth: TestAuth;
let monitoring: MonitoringUnderTest;
let client: GrpcClient<MonitoringServiceClient>;
let events: EventPublisher;
let regulator: string;
let operator: string;

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  monitoring = await startMonitoring(await createTestDatabase('monitoring'), auth, nats.url);
  client = monitoringClient(monitoring.address);
  events = await EventPublisher.connect(nats.url);
  regulator = await auth.token(['regulator'], 'regulator-1');
  operator = await auth.token(['operator'], 'operator-1');
}, 60_000);

afterAll(async () => {
  client?.close();
  await events?.close();
  await monitoring?.stop();
  await nats?.stop();
});

const asRegulator = () => ({ metadata: bearer(regulator) });
const asOperator = () => ({ metadata: bearer(operator) });

function pool(poolId: string, overrides: Partial<PoolData>): PoolData {
  return {
    poolId,
    version: 1,
    providerParticipantId: randomUUID(),
    name: `pool ${poolId}`,
    poolClass: 'A',
    site: 'site-1',
    regionCode: '310000',
    accelerators: [{ kind: 'GPU', model: 'A100', domestic: false }],
    securityLevel: 3,
    datacenterTier: 3,
    pue: 1.3,
    renewableRatio: 0.4,
    gflopsPerWatt: 20,
    price: {
      cpuCoreHourFen: 10,
      gpuCardHourFen: 1000,
      npuCardHourFen: 800,
      memoryGibHourFen: 1,
      storageGibHourFen: 1,
    },
    state: 'online',
    inventory: {
      cpuServers: 2,
      cpuCoresTotal: 128,
      cpuCoresFree: 96,
      gpuServers: 1,
      gpuCardsTotal: 8,
      gpuCardsFree: 2,
      npuServers: 0,
      npuCardsTotal: 0,
      npuCardsFree: 0,
      fp16TflopsTotal: 2496,
      fp16TflopsFree: 624,
      fp32TflopsTotal: 156,
      fp32TflopsFree: 39,
      memoryGibTotal: 1024,
      memoryGibFree: 512,
      storageGibTotal: 10000,
      storageGibFree: 5000,
      uplinkMbpsTotal: 10000,
      uplinkMbpsFree: 5000,
      uplinkTrafficGbFree: 1000,
      downlinkMbpsTotal: 10000,
      downlinkMbpsFree: 5000,
      downlinkTrafficGbFree: 1000,
    },
    inventorySequence: 1,
    held: { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
    lastReportedAt: new Date().toISOString(),
    ...overrides,
  };
}

function participant(
  participantId: string,
  version: number,
  kind: ParticipantEventData['kind'],
  state: ParticipantEventData['state'],
  previousState: ParticipantEventData['previousState'],
): ParticipantEventData {
  return {
    participantId,
    version,
    kind,
    state,
    previousState,
    legalName: 'Example Apps Ltd.',
    creditCode: '91310000MA1FL0000X',
    reason: '',
    actor: 'op-1',
  };
}

async function seriesOf(domain: Domain, metric: string, regionCode = ''): Promise<SeriesPoint[]> {
  const { points } = await client.api.querySeries(
    {
      domain,
      metric,
      regionCode,
      accelerator: '',
      service: '',
      resolution: 0,
      startTime: undefined,
      endTime: undefined,
      pageSize: 500,
      pageToken: '',
    },
    asRegulator(),
  );
  return points;
}

async function total(domain: Domain, metric: string, regionCode = ''): Promise<number> {
  return (await seriesOf(domain, metric, regionCode)).reduce((n, p) => n + p.sum, 0);
}

/** Every feed entry, page by page. */
async function allEvents(): Promise<FeedEvent[]> {
  const all: FeedEvent[] = [];
  let pageToken = '';
  for (let page = 0; page < 100; page += 1) {
    const response = await client.api.listEvents(
      {
        domain: 0,
        regionCode: '',
        pageSize: 3,
        pageToken,
        startTime: undefined,
        endTime: undefined,
      },
      asRegulator(),
    );
    all.push(...response.events);
    pageToken = response.nextPageToken;
    if (!pageToken) return all;
  }
  throw new Error('more than 100 pages');
}

describe('runtime monitoring, against real Postgres and NATS', () => {
  const now = Date.now();
  const p1 = `RP-${randomUUID().slice(0, 8)}`;
  const p2 = `RP-${randomUUID().slice(0, 8)}`;
  const app = randomUUID();
  const demandId = randomUUID();
  const orderId = randomUUID();
  const allocationId = randomUUID();

  it('collects the four domains from the streams into one-minute series, once per event', async () => {
    // Resource: two pools online; one goes stale 5 s after its last report, then recovers.
    await events.publish('resource-aggregation', PoolRegistered, pool(p1, {}));
    await events.publish(
      'resource-aggregation',
      PoolRegistered,
      pool(p2, { regionCode: '110000', accelerators: [] }),
    );
    const stale = await events.publish(
      'resource-aggregation',
      PoolStale,
      pool(p1, { version: 2, state: 'stale', lastReportedAt: new Date(now - 5_000).toISOString() }),
    );
    // A replayed copy (another Nats-Msg-Id, same event id) is recognised and not counted again.
    await events.redeliver(stale);
    await events.publish('resource-aggregation', PoolUpdated, pool(p1, { version: 3 }));
    // Platform and application: an application provider registers and is certified.
    await events.publish(
      'service-center',
      ParticipantRegistered,
      participant(app, 1, 'APPLICATION_PROVIDER', 'SUBMITTED', null),
    );
    await events.publish(
      'service-center',
      ParticipantCertified,
      participant(app, 2, 'APPLICATION_PROVIDER', 'CERTIFIED', 'UNDER_REVIEW'),
    );
    await events.publish('identifier', IdentifierIssued, {
      identifier: 'CN.R0001.AS.000001X',
      version: 1,
      nodeCode: 'R0001',
      objectType: 'AS',
      ownerParticipantId: app,
    });
    // Scheduling: a demand, its order confirmed 1.5 s later, the task running 2 s after allocation.
    const submittedAt = new Date(now - 10_000);
    await events.publish('service-center', DemandSubmitted, {
      demandId,
      participantId: randomUUID(),
      customerReference: '',
      poolClass: 'A',
      acceleratorModel: 'A100',
      acceleratorCount: 1,
      durationHours: 2,
      userRegionCode: '310000',
      matched: 1,
      considered: 2,
      candidatePoolIds: [p1],
      submittedAt: submittedAt.toISOString(),
    });
    const order = (state: OrderEventData['state'], version: number, at: Date): OrderEventData => ({
      orderId,
      demandId,
      participantId: randomUUID(),
      customerReference: '',
      poolId: p1,
      providerParticipantId: randomUUID(),
      regionCode: '310000',
      priceFenPerHour: 1000,
      totalPriceFen: 2000,
      holdId: state === 'placing' ? null : allocationId,
      state,
      previousState: state === 'placing' ? null : 'placing',
      detail: '',
      version,
      changedAt: at.toISOString(),
    });
    await events.publish('service-center', OrderPlaced, order('placing', 1, submittedAt));
    await events.publish(
      'service-center',
      OrderConfirmed,
      order('confirmed', 2, new Date(submittedAt.getTime() + 1_500)),
    );
    const allocation = (
      state: AllocationData['state'],
      version: number,
      at: Date,
    ): AllocationData => ({
      allocationId,
      holdId: allocationId,
      poolId: p1,
      providerParticipantId: randomUUID(),
      orderReference: orderId,
      state,
      detail: '',
      version,
      changedAt: at.toISOString(),
    });
    await events.publish(
      'resource-aggregation',
      AllocationCreated,
      allocation('pending', 1, submittedAt),
    );
    await events.publish(
      'resource-aggregation',
      TaskStateChanged,
      allocation('running', 2, new Date(submittedAt.getTime() + 2_000)),
    );

    // Each stream has its own consumer, and they go at their own pace: wait for the last event of
    // every stream published to (resource, market, participant, identifier), then check it all.
    await eventually('the task response time', async () =>
      (await seriesOf(Domain.DOMAIN_SCHEDULING, 'task_response_ms')).length > 0 ? true : undefined,
    );
    await eventually('the recovery', async () =>
      (await total(Domain.DOMAIN_RESOURCE, 'pools_recovered')) === 1 ? true : undefined,
    );
    await eventually('the confirmed order', async () =>
      (await seriesOf(Domain.DOMAIN_SCHEDULING, 'demand_to_allocation_ms')).length > 0
        ? true
        : undefined,
    );
    await eventually('the certification', async () =>
      (await total(Domain.DOMAIN_APPLICATION, 'application_providers_certified')) === 1
        ? true
        : undefined,
    );
    await eventually('the identified application service', async () =>
      (await total(Domain.DOMAIN_APPLICATION, 'application_services_identified')) === 1
        ? true
        : undefined,
    );
    expect(await total(Domain.DOMAIN_RESOURCE, 'pools_went_stale')).toBe(1);
    expect(await total(Domain.DOMAIN_RESOURCE, 'pools_registered')).toBe(2);
    const discovery = await seriesOf(Domain.DOMAIN_RESOURCE, 'fault_discovery_ms');
    expect(discovery).toHaveLength(1);
    expect(discovery[0].value).toBeGreaterThanOrEqual(5_000);
    expect(discovery[0].regionCode).toBe('310000');
    expect(discovery[0].accelerator).toBe('A100');
    const [toAllocation] = await seriesOf(Domain.DOMAIN_SCHEDULING, 'demand_to_allocation_ms');
    expect(toAllocation.value).toBe(1_500);
    const [response] = await seriesOf(Domain.DOMAIN_SCHEDULING, 'task_response_ms');
    expect(response.value).toBe(2_000);
    expect(await total(Domain.DOMAIN_SCHEDULING, 'demands_with_candidates')).toBe(1);
    expect(await total(Domain.DOMAIN_SCHEDULING, 'holds_confirmed')).toBe(1);
    expect(await total(Domain.DOMAIN_APPLICATION, 'application_providers_registered')).toBe(1);
    expect(await total(Domain.DOMAIN_APPLICATION, 'application_providers_certified')).toBe(1);
    expect(await total(Domain.DOMAIN_APPLICATION, 'application_services_identified')).toBe(1);
    const registered = await seriesOf(Domain.DOMAIN_PLATFORM, 'participants_registered');
    expect(registered.map((p) => [p.kindLabel, p.sum])).toEqual([['APPLICATION_PROVIDER', 1]]);
  }, 60_000);

  it("times a task whose running is handled before its allocation's creation", async () => {
    const late = randomUUID();
    const createdAt = new Date(now - 8_000);
    const allocation = (
      state: AllocationData['state'],
      version: number,
      at: Date,
    ): AllocationData => ({
      allocationId: late,
      holdId: late,
      poolId: p1,
      providerParticipantId: randomUUID(),
      orderReference: randomUUID(),
      state,
      detail: '',
      version,
      changedAt: at.toISOString(),
      createdAt: createdAt.toISOString(),
    });
    const created = await total(Domain.DOMAIN_SCHEDULING, 'allocations_created');
    const responses = await total(Domain.DOMAIN_SCHEDULING, 'task_response_ms');
    // Out of order, as a redelivered AllocationCreated behind its task's first change would be.
    await events.publish(
      'resource-aggregation',
      TaskStateChanged,
      allocation('running', 2, new Date(createdAt.getTime() + 3_000)),
    );
    await events.publish(
      'resource-aggregation',
      AllocationCreated,
      allocation('pending', 1, createdAt),
    );
    await eventually('the creation counted', async () =>
      (await total(Domain.DOMAIN_SCHEDULING, 'allocations_created')) === created + 1
        ? true
        : undefined,
    );
    expect(await total(Domain.DOMAIN_SCHEDULING, 'task_response_ms')).toBe(responses + 3_000);
  }, 30_000);

  it('samples levels: pools online and capacity per region and node-wide, hour and day roll-ups', async () => {
    const online = await eventually('both pools online in a sample', async () => {
      const points = await seriesOf(Domain.DOMAIN_RESOURCE, 'pools_online', '*');
      const last = points.at(-1);
      return last && last.max === 2 ? last : undefined;
    });
    expect(online.accelerator).toBe('*');
    const gpu = await seriesOf(Domain.DOMAIN_RESOURCE, 'gpu_utilisation', '310000');
    expect(gpu.at(-1)?.max).toBeCloseTo(0.75);
    const hourly = await client.api.querySeries(
      {
        domain: Domain.DOMAIN_RESOURCE,
        metric: 'pools_registered',
        regionCode: '',
        accelerator: '',
        service: '',
        resolution: 2,
        startTime: undefined,
        endTime: undefined,
        pageSize: 50,
        pageToken: '',
      },
      asRegulator(),
    );
    expect(hourly.points.reduce((n, p) => n + p.sum, 0)).toBe(2);
    const active = await eventually('the active application provider sampled', async () => {
      const points = await seriesOf(Domain.DOMAIN_APPLICATION, 'application_providers_active');
      return points.at(-1)?.max === 1 ? points : undefined;
    });
    expect(active.length).toBeGreaterThan(0);
  }, 30_000);

  it('keeps a feed that a watcher resumes from its cursor with nothing missed or repeated', async () => {
    const listed = await eventually('the feed', async () => {
      const all = await allEvents();
      return all.length >= 10 ? all : undefined;
    });
    const cursors = listed.map((e) => e.cursor);
    expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);
    expect(new Set(cursors).size).toBe(listed.length);

    // First connection: three entries, then the client goes away.
    const first = await readMessages<WatchFeedResponse>(
      openStream(client, 'watchFeed', { afterCursor: 0, domain: 0, regionCode: '' }, regulator),
      3,
    );
    const lastSeen = first[2].event?.cursor ?? -1;
    // Meanwhile more happens.
    await events.publish(
      'resource-aggregation',
      PoolStale,
      pool(p2, { version: 2, state: 'stale', regionCode: '110000', accelerators: [] }),
    );
    const expected = await eventually('the new entry listed', async () => {
      const all = await allEvents();
      return all.length > listed.length ? all : undefined;
    });
    // Second connection, from the last cursor received: the rest, once each, the new entry included.
    const second = await readMessages<WatchFeedResponse>(
      openStream(
        client,
        'watchFeed',
        { afterCursor: lastSeen, domain: 0, regionCode: '' },
        regulator,
      ),
      expected.length - 3,
    );
    const seen = [...first, ...second].map((m) => m.event?.cursor);
    expect(seen).toEqual(expected.map((e) => e.cursor));
    // A filtered watch gets only its domain.
    const scheduling = await readMessages<WatchFeedResponse>(
      openStream(
        client,
        'watchFeed',
        { afterCursor: 0, domain: Domain.DOMAIN_SCHEDULING, regionCode: '' },
        regulator,
      ),
      expected.filter((e) => e.domain === Domain.DOMAIN_SCHEDULING).length,
    );
    expect(scheduling.every((m) => m.event?.domain === Domain.DOMAIN_SCHEDULING)).toBe(true);
  }, 30_000);

  it('delivers an entry to an open feed as it is recorded', async () => {
    const head = (await allEvents()).at(-1)?.cursor ?? 0;
    const stream = openStream<WatchFeedResponse>(
      client,
      'watchFeed',
      { afterCursor: head, domain: Domain.DOMAIN_PLATFORM, regionCode: '' },
      regulator,
    );
    const arriving = readMessages<WatchFeedResponse>(stream, 1);
    const participantId = randomUUID();
    const published = await events.publish(
      'service-center',
      ParticipantRegistered,
      participant(participantId, 1, 'USER', 'SUBMITTED', null),
    );
    const [message] = await arriving;
    expect(message.event?.eventId).toBe(published.id);
    expect(message.event?.objectId).toBe(participantId);
    expect(message.event?.cursor).toBeGreaterThan(head);
  }, 30_000);

  it('exports a query as CSV chunks, header first, one record per entry', async () => {
    const listed = await allEvents();
    const chunks = await readMessages<ExportCsvResponse>(
      openStream(
        client,
        'exportCsv',
        { events: { domain: 0, regionCode: '', pageSize: 0, pageToken: '' } },
        regulator,
      ),
      1_000,
    );
    const text = Buffer.concat(chunks.map((c) => Buffer.from(c.chunk))).toString('utf8');
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(
      'cursor,event_id,domain,type,region_code,object_id,summary,occurred_at,recorded_at',
    );
    expect(lines).toHaveLength(listed.length + 1);
    expect(chunks.reduce((n, c) => n + c.rows, 0)).toBe(listed.length + 1);
    expect(lines[1].split(',')[1]).toBe(listed[0].eventId);
  }, 30_000);

  it('raises and resolves alerts as events on the feed; only operators change rules', async () => {
    const rule = {
      ruleId: 'pools-online-any',
      domain: Domain.DOMAIN_RESOURCE,
      metric: 'pools_online',
      regionCode: '*',
      accelerator: '',
      service: '',
      comparison: Comparison.COMPARISON_ABOVE,
      threshold: 0,
      forMinutes: 1,
      severity: 'info',
      description: 'any pool online',
      updatedAt: undefined,
    };
    for (const call of [
      client.api.putAlertRule({ requestId: 'r1', rule }, asRegulator()),
      client.api.deleteAlertRule({ requestId: 'r2', ruleId: rule.ruleId }, asRegulator()),
    ])
      await expectGrpcError(call, GrpcStatus.PERMISSION_DENIED);
    const bad = await expectGrpcError(
      client.api.putAlertRule(
        { requestId: 'r3', rule: { ...rule, metric: 'nope', forMinutes: 0 } },
        asOperator(),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(bad.status?.fieldViolations.map((v) => v.field).sort()).toEqual([
      'rule.for_minutes',
      'rule.metric',
    ]);
    const put = await client.api.putAlertRule({ requestId: 'r4', rule }, asOperator());
    expect(put.rule?.ruleId).toBe(rule.ruleId);
    const raised = await eventually('the alert raised', async () => {
      const { alerts } = await client.api.listAlerts(
        { firingOnly: true, pageSize: 10, pageToken: '' },
        asRegulator(),
      );
      return alerts.find((a) => a.ruleId === rule.ruleId);
    });
    expect(raised.regionCode).toBe('*');
    expect(raised.value).toBeGreaterThan(0);
    await client.api.deleteAlertRule({ requestId: 'r5', ruleId: rule.ruleId }, asOperator());
    const { alerts } = await client.api.listAlerts(
      { firingOnly: false, pageSize: 10, pageToken: '' },
      asRegulator(),
    );
    const resolved = alerts.find((a) => a.alertId === raised.alertId);
    expect(resolved?.resolvedAt && fromTimestamp(resolved.resolvedAt).getTime()).toBeGreaterThan(0);
    const types = (await allEvents())
      .filter((e) => e.objectId === raised.alertId)
      .map((e) => e.type);
    expect(types).toEqual(['cinode.monitoring.alert.raised', 'cinode.monitoring.alert.resolved']);
    await expectGrpcError(
      client.api.deleteAlertRule({ requestId: 'r6', ruleId: rule.ruleId }, asOperator()),
      GrpcStatus.NOT_FOUND,
    );
  }, 30_000);

  it('derives the indicators from the series', async () => {
    const indicators = await client.api.getIndicators(
      { startTime: undefined, endTime: undefined },
      asRegulator(),
    );
    // The first test's task (2 s) and the one handled out of order (3 s).
    expect(indicators.taskResponse).toEqual({ count: 2, meanMs: 2_500, maxMs: 3_000 });
    expect(indicators.demandToAllocation?.meanMs).toBe(1_500);
    // p1 went stale in the first test, p2 in the feed test.
    expect(indicators.faultDiscovery?.count).toBe(2);
    expect(indicators.faultRecovery?.count).toBe(1);
    expect(indicators.gpuCardsTotal).toBeGreaterThanOrEqual(8);
    expect(indicators.alertsRaised).toBeGreaterThanOrEqual(1);
  });

  it('takes a report of several pools in one event: each pool applied, each change fed', async () => {
    const before = await total(Domain.DOMAIN_RESOURCE, 'pools_recovered');
    const reported = await events.publish('resource-aggregation', PoolsReported, {
      pools: [
        pool(p1, { version: 10 }),
        pool(p2, { version: 3, regionCode: '110000', accelerators: [] }),
      ],
    });
    const entries = await eventually('the recovery of p2 fed', async () => {
      const found = (await allEvents()).filter((e) => e.eventId === reported.id);
      return found.length > 0 ? found : undefined;
    });
    // p1 was online already (no change to feed); p2 was stale and is back.
    expect(entries.map((e) => [e.objectId, e.summary])).toEqual([
      [p2, `pool ${p2} stale -> online`],
    ]);
    await eventually('the recovery counted', async () =>
      (await total(Domain.DOMAIN_RESOURCE, 'pools_recovered')) === before + 1 ? true : undefined,
    );
  });

  it('exports the domains as Prometheus gauges for the dashboard', async () => {
    const text = await eventually('the pools gauge', async () => {
      const exposed = await metricsRegistry.getSingleMetricAsString('cinode_monitoring_pools');
      return exposed.includes(`region_code="110000"`) ? exposed : undefined;
    });
    expect(text).toMatch(
      /cinode_monitoring_pools\{state="online",region_code="310000",accelerator="A100",service="runtime-monitoring"\} 1/,
    );
    const capacity = await metricsRegistry.getSingleMetricAsString('cinode_monitoring_capacity');
    expect(capacity).toMatch(
      /resource="gpu_cards",amount="total",region_code="310000",service="runtime-monitoring"\} 8/,
    );
  });

  it('refuses bad queries with INVALID_ARGUMENT naming the field', async () => {
    const missing = await expectGrpcError(
      client.api.querySeries(
        {
          domain: 0,
          metric: '',
          regionCode: 'x',
          accelerator: '',
          service: '',
          resolution: 9 as Resolution,
          startTime: undefined,
          endTime: undefined,
          pageSize: 0,
          pageToken: '',
        },
        asRegulator(),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(missing.status?.fieldViolations.map((v) => v.field).sort()).toEqual([
      'domain',
      'region_code',
      'resolution',
    ]);
    const watch = openStream(
      client,
      'watchFeed',
      { afterCursor: -1, domain: 0, regionCode: '' },
      regulator,
    );
    await expect(readMessages(watch, 1)).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
    });
    const exported = openStream(client, 'exportCsv', {}, regulator);
    await expect(readMessages(exported, 1)).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
    });
    const anonymous = openStream(
      client,
      'watchFeed',
      { afterCursor: 0, domain: 0, regionCode: '' },
      '',
    );
    await expect(readMessages(anonymous, 1)).rejects.toMatchObject({
      code: GrpcStatus.UNAUTHENTICATED,
    });
  });
});
