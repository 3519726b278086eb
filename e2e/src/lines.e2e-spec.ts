import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { createGrpcClient, decodeRichStatus, type PromiseClient } from '@cinode/grpc';
import { OrderState, type Order } from '@cinode/proto/gen/cinode/market/v1/market_service';
import {
  ParticipantKind,
  UserCategory,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  AcceleratorKind,
  PoolClass,
  PoolState,
  TaskState,
  type Inventory,
  type PoolSpec,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import {
  LineState,
  type Line,
  type LineServiceClient,
  type LineSpec,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import {
  PathKind,
  type Demand,
  type SelectResponse,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { expectGrpcError } from '@cinode/testing';
import { SETTLE_MS, organisation, registerAndCertify } from './support/market';
import {
  KeyHolder,
  as,
  startNode,
  type NodeClients,
  type NodeUnderTest,
} from './support/node-processes';
import { pollUntil, retryWhile } from './support/waiting';

/**
 * Dedicated lines in the whole node, through gRPC only: a certified line provider registers a line
 * between a Shanghai site and a Beijing pool's site; its LN identifier is issued and filed; then a
 * Shanghai user whose latency limit the public network (35 ms between the provinces by default)
 * cannot meet reaches the Beijing pool through the line. Malformed lines and callers that are not
 * line providers are refused.
 */
let node: NodeUnderTest;
let api: NodeClients;
let lines: PromiseClient<LineServiceClient>;
let closeLines: (() => void) | undefined;
let operator: KeyHolder;
let provider: KeyHolder;
let lineProvider: KeyHolder;
let serviceToken: string;
let poolId: string;

const POOL: PoolSpec = {
  name: 'Yizhuang GPU cluster',
  poolClass: PoolClass.POOL_CLASS_BARE_METAL,
  site: 'bj-yizhuang-2',
  regionCode: '110115',
  accelerators: [{ kind: AcceleratorKind.ACCELERATOR_KIND_GPU, model: 'H800', domestic: false }],
  securityLevel: 3,
  datacenterTier: 4,
  pue: 1.2,
  renewableRatio: 0.5,
  gflopsPerWatt: 50,
  price: {
    cpuCoreHourFen: 10,
    gpuCardHourFen: 1_500,
    npuCardHourFen: 1_000,
    memoryGibHourFen: 2,
    storageGibHourFen: 1,
  },
};

const INVENTORY: Inventory = {
  cpuServers: 4,
  cpuCoresTotal: 256,
  cpuCoresFree: 128,
  gpuServers: 2,
  gpuCardsTotal: 16,
  gpuCardsFree: 8,
  npuServers: 0,
  npuCardsTotal: 0,
  npuCardsFree: 0,
  fp16TflopsTotal: 15_840,
  fp16TflopsFree: 7_920,
  fp32TflopsTotal: 1_072,
  fp32TflopsFree: 536,
  memoryGibTotal: 8_192,
  memoryGibFree: 4_096,
  storageGibTotal: 500_000,
  storageGibFree: 300_000,
  uplinkMbpsTotal: 100_000,
  uplinkMbpsFree: 60_000,
  uplinkTrafficGbFree: 5_000,
  downlinkMbpsTotal: 100_000,
  downlinkMbpsFree: 70_000,
  downlinkTrafficGbFree: 5_000,
};

const LINE: LineSpec = {
  name: 'Lingang to Yizhuang',
  endpointA: { regionCode: '310115', site: 'sh-lingang-1' },
  endpointB: { regionCode: '110115', site: 'bj-yizhuang-2' },
  bandwidthMbpsTotal: 100_000,
  bandwidthMbpsFree: 20_000,
  latencyMs: 12,
  priceFenPerHour: 800,
  availability: 0.9995,
  outOfService: false,
};

/** One H800 card for a user at the Lingang site who needs 20 ms at most and 1 Gbit/s. */
function demand(overrides: Partial<Demand> = {}): Demand {
  return {
    poolClass: PoolClass.POOL_CLASS_BARE_METAL,
    acceleratorModel: 'h800',
    acceleratorCount: 1,
    fp16Tflops: 0,
    fp32Tflops: 0,
    cpuCores: 8,
    memoryGib: 64,
    storageGib: 0,
    durationHours: 10,
    allowedRegions: [],
    userRegionCode: '310115',
    userSite: 'sh-lingang-1',
    maxLatencyMs: 20,
    minBandwidthMbps: 1_000,
    maxPriceFenPerHour: 0,
    minSecurityLevel: 0,
    minRenewableRatio: 0,
    domesticOnly: false,
    ...overrides,
  };
}

function select(overrides: Partial<Demand> = {}): Promise<SelectResponse> {
  return api.selection.select(
    { demand: demand(overrides), weights: undefined, topK: 5 },
    as(serviceToken),
  );
}

async function certified(kind: ParticipantKind, name: string): Promise<KeyHolder> {
  const { apiKey } = await registerAndCertify(
    api,
    operator,
    organisation(kind, `${name} ${randomUUID().slice(0, 8)}`),
  );
  return new KeyHolder(api.tokens, apiKey);
}

/** A certified enterprise user at the Lingang site. */
async function lineUser(): Promise<KeyHolder> {
  const request = organisation(
    ParticipantKind.PARTICIPANT_KIND_USER,
    `Lingang Lab ${randomUUID().slice(0, 8)}`,
  );
  request.userCategory = UserCategory.USER_CATEGORY_ENTERPRISE;
  return new KeyHolder(api.tokens, (await registerAndCertify(api, operator, request)).apiKey);
}

/** The user's demand (see `demand`), as the service center stores it with its candidates. */
async function submit(user: KeyHolder, overrides: Partial<Demand>) {
  const { demand: record } = await api.market.submitDemand(
    {
      requestId: randomUUID(),
      customerReference: '',
      demand: demand(overrides),
      weights: undefined,
      topK: 5,
    },
    await user.options(),
  );
  return record!;
}

/** GPU cards of the pool neither in use nor held. */
async function freeGpuCards(): Promise<number> {
  const { pool } = await api.resources.getPool({ poolId }, await operator.options());
  return pool!.inventory!.gpuCardsFree - pool!.held!.gpuCardsFree;
}

/** Registers a line, retried while the identifier service does not know the provider yet. */
async function registerLine(holder: KeyHolder, spec: LineSpec = LINE): Promise<Line> {
  const requestId = randomUUID();
  const { line } = await retryWhile(
    'RegisterLine to be accepted',
    [GrpcStatus.UNAVAILABLE, GrpcStatus.FAILED_PRECONDITION],
    async () =>
      lines.registerLine({ requestId, spec, providerParticipantId: '' }, await holder.options()),
    SETTLE_MS,
  );
  return line!;
}

beforeAll(async () => {
  // The pool reports once and never again: it must not go stale while the tests run (the e2e
  // node's 5 s stale interval is for the specs that test liveness).
  node = await startNode({
    tokenTtlSeconds: 600,
    env: { POOL_STALE_AFTER_SECONDS: '600', POOL_OFFLINE_AFTER_SECONDS: '1200' },
  });
  api = node.clients;
  const client = createGrpcClient<LineServiceClient>('cinode.selection.v1.LineService', {
    address: node.addressOf('cinode.selection.v1.LineService'),
    credentials: node.credentials,
  });
  lines = client.api;
  closeLines = () => client.close();
  operator = new KeyHolder(api.tokens, node.operatorBootstrapKey);
  provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER, 'Yizhuang Compute');
  lineProvider = await certified(ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER, 'East Line Co.');
  serviceToken = await node.auth.token(['service'], 'service-center');
  // The Beijing pool, filed and online.
  const requestId = randomUUID();
  const { pool } = await retryWhile(
    'RegisterPool to be accepted',
    [GrpcStatus.UNAVAILABLE, GrpcStatus.FAILED_PRECONDITION],
    async () =>
      api.resources.registerPool(
        { requestId, spec: POOL, contractVersion: 1 },
        await provider.options(),
      ),
    SETTLE_MS,
  );
  poolId = pool!.poolId;
  await pollUntil(
    'the pool to be filed',
    async () => (await api.resources.getPool({ poolId }, await operator.options())).pool!,
    (p) => p.state === PoolState.POOL_STATE_OFFLINE,
    SETTLE_MS,
  );
  await api.resources.reportInventory(
    { snapshots: [{ poolId, sequence: 1, observedAt: undefined, inventory: INVENTORY }] },
    await provider.options(),
  );
}, 180_000);

afterAll(async () => {
  closeLines?.();
  if (!node) return;
  if (process.env.E2E_SHOW_LOGS) console.log(node.outputOf('compute-selection'));
  const codes = await node.stop();
  expect(codes['compute-selection']).toBe(0);
}, 30_000);

describe('dedicated lines (issue 8)', () => {
  let lineId: string;

  it('keeps a pool beyond the latency limit out of selection while no line reaches it', async () => {
    const { value } = await pollUntil(
      'the pool to be in the index',
      () => select({ maxLatencyMs: 0 }),
      (r) => r.matched === 1,
      SETTLE_MS,
    );
    expect(value.candidates[0]?.path?.kind).toBe(PathKind.PATH_KIND_DEFAULT);
    expect(value.candidates[0]?.path?.latencyMs).toBe(35);
    const limited = await select();
    expect(limited.matched).toBe(0);
    expect(limited.eliminations).toEqual([{ constraint: 'max_latency_ms', pools: 1 }]);
  });

  it('registers a line with an LN identifier that the national node files', async () => {
    const line = await registerLine(lineProvider);
    lineId = line.lineId;
    expect(lineId).toMatch(/^[A-Z]{2,8}\.[RI]\d{4}\.LN\.\d{8}[0-9A-Z]$/);
    expect(line.spec).toEqual(LINE);
    const { identifier } = await api.identifiers.resolveIdentifier(
      { identifier: lineId },
      await operator.options(),
    );
    expect(identifier?.objectName).toBe(LINE.name);
    const { value: filed } = await pollUntil(
      `line ${lineId} to be filed`,
      async () => (await lines.getLine({ lineId }, await lineProvider.options())).line!,
      (l) => l.state === LineState.LINE_STATE_ACTIVE,
      SETTLE_MS,
    );
    // The national node may file it before the registration commits (the filing is then stored
    // with the line, at version 1); otherwise the filing is a change of its own.
    if (line.state === LineState.LINE_STATE_ACTIVE) expect(filed.version).toBe(line.version);
    else expect(filed.version).toBeGreaterThan(line.version);
  });

  it('reaches the pool through the line when only the line meets the latency limit', async () => {
    const { value } = await pollUntil(
      'Select to find the pool through the line',
      () => select(),
      (r) => r.matched === 1,
      SETTLE_MS,
    );
    const [candidate] = value.candidates;
    expect(candidate.poolId).toBe(poolId);
    expect(candidate.path).toEqual({
      kind: PathKind.PATH_KIND_LINE,
      latencyMs: 12,
      bandwidthMbps: 20_000,
      lineId,
      linePriceFenPerHour: 800,
    });
    // 8 cores, 1 card, 64 GiB at the pool's prices, plus the line.
    expect(candidate.priceFenPerHour).toBe(8 * 10 + 1_500 + 64 * 2 + 800);
    // The line ends at the Lingang site: a user at another Shanghai site is not on it.
    expect((await select({ userSite: 'sh-zhangjiang-3' })).matched).toBe(0);
    const status = await api.selection.getIndexStatus({}, as(serviceToken));
    expect([status.ready, status.lines, status.usableLines]).toEqual([true, 1, 1]);
  });

  it("reserves the line's bandwidth for an order on it and gives it back when the task ends", async () => {
    const user = await lineUser();
    // 5 Gbit/s of the line's 20 for ten hours.
    const record = await submit(user, { minBandwidthMbps: 5_000 });
    expect(record.selection?.candidates[0]?.path?.lineId).toBe(lineId);
    const { order } = await api.market.placeOrder(
      { requestId: randomUUID(), demandId: record.demandId, poolId },
      await user.options(),
    );
    expect(order!.state).toBe(OrderState.ORDER_STATE_CONFIRMED);
    expect(order!.lineHoldId).not.toBe('');
    const reserved = async () =>
      (await lines.getLine({ lineId }, await lineProvider.options())).line!.bandwidthMbpsReserved;
    expect(await reserved()).toBe(5_000);
    // Selection offers what is left: 15 Gbit/s, so a demand for 16 finds no path in time.
    await pollUntil(
      'Select to offer the line less the reservation',
      () => select(),
      (r) => r.candidates[0]?.path?.bandwidthMbps === 15_000,
      SETTLE_MS,
    );
    const starved = await select({ minBandwidthMbps: 16_000 });
    expect(starved.matched).toBe(0);
    expect(starved.eliminations).toEqual([{ constraint: 'max_latency_ms', pools: 1 }]);

    // The provider runs the task to completion: the order ends and the line's bandwidth is back.
    const { value: allocations } = await pollUntil(
      'the allocation to reach the provider',
      async () =>
        (
          await api.resources.listAllocations(
            {
              providerParticipantId: '',
              poolId,
              state: TaskState.TASK_STATE_UNSPECIFIED,
              afterSequence: 0,
              pageSize: 100,
              pageToken: '',
            },
            await provider.options(),
          )
        ).allocations,
      (list) => list.some((a) => a.orderReference === order!.orderId),
      SETTLE_MS,
    );
    const allocation = allocations.find((a) => a.orderReference === order!.orderId)!;
    await api.resources.reportTaskState(
      {
        allocationId: allocation.allocationId,
        state: TaskState.TASK_STATE_COMPLETED,
        detail: 'exit 0',
        requestId: '',
      },
      await provider.options(),
    );
    await pollUntil('the line bandwidth to be released', reserved, (r) => r === 0, SETTLE_MS);
    await pollUntil(
      'Select to offer the whole free bandwidth again',
      () => select(),
      (r) => r.candidates[0]?.path?.bandwidthMbps === 20_000,
      SETTLE_MS,
    );
  });

  it("lets one of two racing orders have the line's last bandwidth; the other is refused and gives back its pool hold", async () => {
    const user = await lineUser();
    const gpusBefore = await freeGpuCards();
    // 12 Gbit/s each of the 20 free: both see the line, only one can have it.
    const records = [
      await submit(user, { minBandwidthMbps: 12_000 }),
      await submit(user, { minBandwidthMbps: 12_000 }),
    ];
    for (const record of records)
      expect(record.selection?.candidates[0]?.path?.lineId).toBe(lineId);
    const outcomes = await Promise.all(
      records.map(async (record) =>
        api.market
          .placeOrder(
            { requestId: randomUUID(), demandId: record.demandId, poolId },
            await user.options(),
          )
          .then(
            ({ order }) => order!,
            (error: ServiceError) => error,
          ),
      ),
    );
    const confirmed = outcomes.filter((o): o is Order => !(o instanceof Error));
    const refused = outcomes.filter((o): o is ServiceError => o instanceof Error);
    expect(confirmed.map((o) => o.state)).toEqual([OrderState.ORDER_STATE_CONFIRMED]);
    expect(refused).toHaveLength(1);
    expect(refused[0].code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(decodeRichStatus(refused[0])?.errorInfo?.reason).toBe('CAPACITY_UNAVAILABLE');
    const { orders } = await api.market.listOrders(
      { participantId: '', state: OrderState.ORDER_STATE_REFUSED, pageSize: 100, pageToken: '' },
      await user.options(),
    );
    expect(orders.map((o) => o.detail)).toEqual([
      expect.stringMatching(/^INSUFFICIENT_BANDWIDTH: /),
    ]);
    const lineOf = async () =>
      (await lines.getLine({ lineId }, await lineProvider.options())).line!;
    expect((await lineOf()).bandwidthMbpsReserved).toBe(12_000);
    // The refused order's pool hold is given back at once: only the winner's card is held.
    await pollUntil(
      "the refused order's card back",
      freeGpuCards,
      (n) => n === gpusBefore - 1,
      SETTLE_MS,
    );

    // Cancelling the winner gives its card and the line's bandwidth back once the provider
    // reports the cancelled task stopped: until then the task may still use both.
    const { order: cancelled } = await api.market.cancelOrder(
      { orderId: confirmed[0].orderId, reason: 'plans changed' },
      await user.options(),
    );
    expect(cancelled!.state).toBe(OrderState.ORDER_STATE_CANCELLED);
    expect(await freeGpuCards()).toBe(gpusBefore - 1);
    expect((await lineOf()).bandwidthMbpsReserved).toBe(12_000);
    // A retried cancel changes nothing of that either.
    await api.market.cancelOrder(
      { orderId: confirmed[0].orderId, reason: 'plans changed' },
      await user.options(),
    );
    expect((await lineOf()).bandwidthMbpsReserved).toBe(12_000);
    await api.resources.reportTaskState(
      {
        allocationId: cancelled!.holdId,
        state: TaskState.TASK_STATE_CANCELLED,
        detail: 'stopped',
        requestId: '',
      },
      await provider.options(),
    );
    expect(await freeGpuCards()).toBe(gpusBefore);
    // The service center's recovery pass (every ORDER_RECOVERY_INTERVAL_MS) sees the hold ended.
    await pollUntil(
      'the line bandwidth to be released',
      async () => (await lineOf()).bandwidthMbpsReserved,
      (r) => r === 0,
      SETTLE_MS,
    );
  });

  it('drops the line from selection when its provider takes it out of service', async () => {
    const current = (await lines.getLine({ lineId }, await lineProvider.options())).line!;
    await expectGrpcError(
      lines.updateLine(
        {
          lineId,
          spec: { ...LINE, outOfService: true },
          updateMask: ['out_of_service'],
          expectedVersion: current.version + 1,
          expectedSpecVersion: 0,
        },
        await lineProvider.options(),
      ),
      GrpcStatus.ABORTED,
    );
    const { line } = await lines.updateLine(
      {
        lineId,
        spec: { ...LINE, outOfService: true },
        updateMask: ['out_of_service'],
        expectedVersion: current.version,
        expectedSpecVersion: 0,
      },
      await lineProvider.options(),
    );
    expect(line?.state).toBe(LineState.LINE_STATE_OUT_OF_SERVICE);
    await pollUntil(
      'Select to stop using the line',
      () => select(),
      (r) => r.matched === 0,
      SETTLE_MS,
    );
  });

  it('refuses a malformed line, naming each field', async () => {
    const error = await expectGrpcError(
      lines.registerLine(
        {
          requestId: randomUUID(),
          spec: {
            ...LINE,
            endpointB: { regionCode: '11011', site: 'bj yizhuang' },
            bandwidthMbpsFree: 200_000,
            availability: 1.5,
          },
          providerParticipantId: '',
        },
        await lineProvider.options(),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field).sort()).toEqual([
      'spec.availability',
      'spec.bandwidth_mbps_free',
      'spec.endpoint_b.region_code',
      'spec.endpoint_b.site',
    ]);
  });

  it('refuses a participant that is not a line provider', async () => {
    await expectGrpcError(
      lines.registerLine(
        { requestId: randomUUID(), spec: LINE, providerParticipantId: '' },
        await provider.options(),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    // Nor may a line provider change another's line, or a compute provider read it.
    const other = await certified(ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER, 'West Line Co.');
    await expectGrpcError(
      lines.updateLine(
        {
          lineId,
          spec: LINE,
          updateMask: ['latency_ms'],
          expectedVersion: 0,
          expectedSpecVersion: 0,
        },
        await other.options(),
      ),
      GrpcStatus.NOT_FOUND,
    );
    await expectGrpcError(
      lines.getLine({ lineId }, await provider.options()),
      GrpcStatus.PERMISSION_DENIED,
    );
  });
});
