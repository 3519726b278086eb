import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, PermissionDeniedError, UnavailableError } from '@cinode/common';
import {
  createTestAuth,
  createTestDatabase,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import type { Caller } from '@cinode/auth';
import { PoolClass, type Pool } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { SelectionSnapshot } from '@cinode/proto/gen/cinode/market/v1/market_service';
import {
  ParticipantKind,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  Candidate,
  Demand,
  PathKind,
  type SelectResponse,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { toTimestamp } from '@cinode/grpc';
import { UnitOfWork } from '@cinode/database';
import { Client } from 'pg';
import { CapacityRefusal, type HoldStanding, type MarketPeers } from '../src/market/market-peers';
import { MarketService } from '../src/market/market.service';
import { QualificationsService } from '../src/qualifications/qualifications.service';
import { startServiceCenter, type ServiceCenterUnderTest } from './service-center-harness';

/*
 * Giving back the line bandwidth of ended orders (the recovery pass's half that releases lines),
 * on the service center's own database, with resource aggregation and compute selection played
 * by a script (`ScriptedPeers`): which holds have ended, which line holds were released.
 */

/** The peers as the pass needs them; every other call is a test error. */
class ScriptedPeers {
  /** Holds still STOPPING (their tasks may run): not ended. */
  readonly stopping = new Set<string>();
  /** Holds whose look-up fails as an unreachable resource aggregation does. */
  readonly unreachable = new Set<string>();
  readonly releasedLines: string[] = [];
  readonly asked: string[] = [];

  /** Holds still live under a cancelled order (its cancellation's release never took). */
  readonly live = new Set<string>();
  readonly releasedHolds: string[] = [];

  async holdStanding(holdId: string): Promise<HoldStanding> {
    this.asked.push(holdId);
    if (this.unreachable.has(holdId))
      throw new UnavailableError('AGGREGATION_UNAVAILABLE', 'resource aggregation is down');
    if (this.live.has(holdId)) return 'live';
    return this.stopping.has(holdId) ? 'stopping' : 'ended';
  }

  async releaseLineHold(holdId: string): Promise<void> {
    this.releasedLines.push(holdId);
  }

  // What a placement calls, for the race with a cancellation below.
  readonly poolHold = randomUUID();
  readonly lineHold = randomUUID();
  /** Runs while the pool's hold is being confirmed, before the placement records CONFIRMED. */
  duringConfirm: () => Promise<void> = async () => undefined;

  /** Runs while compute selection answers a demand. */
  duringSelect: () => Promise<void> = async () => undefined;

  async select(): Promise<SelectResponse> {
    await this.duringSelect();
    return { candidates: [CANDIDATE], matched: 1, considered: 1, eliminations: [] };
  }

  async getPool(): Promise<Pool> {
    return { spec: { accelerators: [] } } as unknown as Pool;
  }

  /** Runs while the pool's hold is being taken. */
  duringHold: () => Promise<void> = async () => undefined;
  /** Holds (the pool's and the line's) whose confirmation was asked for. */
  readonly confirmed: string[] = [];

  async createHold(): Promise<{ holdId: string }> {
    await this.duringHold();
    return { holdId: this.poolHold };
  }

  async holdLine(): Promise<{ holdId: string }> {
    return { holdId: this.lineHold };
  }

  async confirmLineHold(holdId: string): Promise<void> {
    this.confirmed.push(holdId);
  }

  /** Refuses the pool hold's confirmation as one whose task ended already would be. */
  confirmRefused = false;

  async confirmHold(holdId: string): Promise<void> {
    this.confirmed.push(holdId);
    await this.duringConfirm();
    if (this.confirmRefused)
      throw new CapacityRefusal('HOLD_NOT_ACTIVE', `hold ${this.poolHold} is released`, true);
    // Confirmed: its allocation is the provider's, and a release leaves it STOPPING.
    this.live.add(holdId);
  }

  /** Releases fail as they do while resource aggregation is down, when set. */
  releaseUnavailable = false;

  /** A confirmed hold's release leaves it STOPPING while its task may run. */
  /** What resource aggregation answers every release with instead, when set. */
  releaseRefusal: CapacityRefusal | undefined;

  async releaseHold(holdId: string): Promise<{ taskEnded: boolean; ended: boolean }> {
    if (this.releaseRefusal) throw this.releaseRefusal;
    if (this.releaseUnavailable)
      throw new UnavailableError('AGGREGATION_UNAVAILABLE', 'resource aggregation is down');
    this.releasedHolds.push(holdId);
    if (this.live.delete(holdId)) this.stopping.add(holdId);
    return { taskEnded: false, ended: !this.stopping.has(holdId) };
  }
}

let nats: TestNats;
let auth: TestAuth;
let databaseUrl: string;
let center: ServiceCenterUnderTest;
let db: Client;
let market: MarketService;
let peers: ScriptedPeers;

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  databaseUrl = await createTestDatabase('service_center_order_lines');
  center = await startServiceCenter(databaseUrl, nats.url, auth);
  market = center.service.app.get(MarketService);
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await center?.stop();
  await nats?.stop();
});

beforeEach(async () => {
  await db.query('DELETE FROM market_order');
  await db.query('DELETE FROM demand');
  peers = new ScriptedPeers();
  // The service's own peers are unreachable here; the pass talks to the script instead.
  Object.assign(market, {
    peers: peers as unknown as MarketPeers,
    lineSweep: { passes: 0 },
    holdSweep: { passes: 0 },
  });
});

interface EndedOrder {
  id: string;
  holdId: string;
  lineHoldId: string;
}

/** An ended order that holds a line, ended `secondsAgo` (one demand each, as PlaceOrder leaves it). */
async function endedOrder(state: string, secondsAgo: number): Promise<EndedOrder> {
  const order = { id: randomUUID(), holdId: randomUUID(), lineHoldId: randomUUID() };
  const demandId = randomUUID();
  const participant = randomUUID();
  const at = new Date(Date.now() - secondsAgo * 1000);
  await db.query(
    `INSERT INTO demand (id, participant_id, customer_reference, demand, weights, top_k, selection,
       state, order_id, created_at, state_changed_at)
     VALUES ($1, $2, '', '\\x', '\\x', 10, '\\x', 'open', NULL, $3, $3)`,
    [demandId, participant, at],
  );
  await db.query(
    `INSERT INTO market_order (id, demand_id, participant_id, customer_reference, pool_id,
       provider_participant_id, candidate, hold_id, line_hold_id, line_released_at, state, detail,
       version, task_version, created_at, state_changed_at)
     VALUES ($1, $2, $3, '', 'CN.R0001.RP.00000001X', 'provider', '\\x', $4, $5, NULL, $6, '',
       2, 0, $7, $7)`,
    [order.id, demandId, participant, order.holdId, order.lineHoldId, state, at],
  );
  return order;
}

async function released(orderId: string): Promise<boolean> {
  const { rows } = await db.query<{ line_released_at: Date | null }>(
    'SELECT line_released_at FROM market_order WHERE id = $1',
    [orderId],
  );
  return rows[0].line_released_at !== null;
}

describe('the recovery pass over ended orders that hold a line', () => {
  it("keeps a cancelled order's line while its hold is stopping, and gives it back once the hold has ended", async () => {
    const cancelled = await endedOrder('cancelled', 1);
    peers.stopping.add(cancelled.holdId);
    expect(await market.releaseEndedLines()).toBe(0);
    expect(peers.releasedLines).toEqual([]);
    expect(await released(cancelled.id)).toBe(false);

    // The provider reported the task stopped (or the grace passed): the hold is released.
    peers.stopping.delete(cancelled.holdId);
    expect(await market.releaseEndedLines()).toBe(1);
    expect(peers.releasedLines).toEqual([cancelled.lineHoldId]);
    expect(await released(cancelled.id)).toBe(true);
    // Recorded: never released twice.
    expect(await market.releaseEndedLines()).toBe(0);
    expect(peers.releasedLines).toHaveLength(1);
  });

  it("keeps a failed order's line while its hold is stopping (the node failed a task never reported started)", async () => {
    const failed = await endedOrder('failed', 120);
    peers.stopping.add(failed.holdId);
    expect(await market.releaseEndedLines()).toBe(0);
    expect(peers.releasedLines).toEqual([]);
    peers.stopping.delete(failed.holdId);
    expect(await market.releaseEndedLines()).toBe(1);
    expect(peers.releasedLines).toEqual([failed.lineHoldId]);
  });

  it('gives back the line of a completed order without asking for its hold, once the event had its chance', async () => {
    const recent = await endedOrder('completed', 1);
    const completed = await endedOrder('completed', 120);
    expect(await market.releaseEndedLines()).toBe(1);
    expect(peers.releasedLines).toEqual([completed.lineHoldId]);
    expect(peers.asked).toEqual([]);
    expect(await released(recent.id)).toBe(false);
  });

  it('reaches every order in turn, however many ahead of it are still stopping', async () => {
    const stuck = [];
    for (let i = 0; i < 60; i += 1) {
      const order = await endedOrder('cancelled', 600 - i);
      peers.stopping.add(order.holdId);
      stuck.push(order);
    }
    const behind = await endedOrder('cancelled', 10);
    // 50 a pass: the first sees only stopping ones; the second starts at the oldest again; the
    // third goes on from where the first stopped and reaches the one behind them.
    expect(await market.releaseEndedLines(50)).toBe(0);
    expect(await market.releaseEndedLines(50)).toBe(0);
    expect(peers.asked[50]).toBe(stuck[0].holdId);
    expect(await market.releaseEndedLines(50)).toBe(1);
    expect(peers.releasedLines).toEqual([behind.lineHoldId]);
    // The one that goes on next starts over from the oldest.
    peers.asked.length = 0;
    await market.releaseEndedLines(50);
    await market.releaseEndedLines(50);
    expect(peers.asked[0]).toBe(stuck[0].holdId);
    expect(peers.asked[50]).toBe(stuck[0].holdId);
  });

  it('ends a pass at a peer that cannot be reached, and goes on past that order next time', async () => {
    const stopping = [await endedOrder('cancelled', 50), await endedOrder('cancelled', 40)];
    for (const order of stopping) peers.stopping.add(order.holdId);
    const failing = await endedOrder('cancelled', 30);
    const behind = [await endedOrder('cancelled', 20), await endedOrder('cancelled', 10)];
    peers.unreachable.add(failing.holdId);
    // 2 a pass. Going on: the two stopping ones. From the oldest: the same two.
    expect(await market.releaseEndedLines(2)).toBe(0);
    expect(await market.releaseEndedLines(2)).toBe(0);
    // Going on: the failing one ends the pass; the one behind it is not tried (it would wait
    // out the same deadline).
    peers.asked.length = 0;
    expect(await market.releaseEndedLines(2)).toBe(0);
    expect(peers.asked).toEqual([failing.holdId]);
    // From the oldest, then going on past the failing one: it cannot hold up those behind it.
    await market.releaseEndedLines(2);
    peers.asked.length = 0;
    expect(await market.releaseEndedLines(2)).toBe(2);
    expect(peers.asked).toEqual(behind.map((o) => o.holdId));
    expect(peers.releasedLines).toEqual(behind.map((o) => o.lineHoldId));
  });

  it('releases a hold a cancelled order left live, and keeps the line while its task stops', async () => {
    const cancelled = await endedOrder('cancelled', 5);
    // Its cancellation's release never took: the allocation still runs under a confirmed hold.
    peers.live.add(cancelled.holdId);
    expect(await market.releaseEndedLines()).toBe(0);
    expect(peers.releasedHolds).toEqual([cancelled.holdId]);
    expect(peers.releasedLines).toEqual([]);
    // The provider reports the task stopped.
    peers.stopping.delete(cancelled.holdId);
    expect(await market.releaseEndedLines()).toBe(1);
    expect(peers.releasedLines).toEqual([cancelled.lineHoldId]);
    expect(peers.releasedHolds).toEqual([cancelled.holdId]);
  });
});

/** What the orders below were placed for: 4 cores and 8 GiB for 2 hours, 100 Mbit/s. */
const DEMAND = Demand.encode({
  poolClass: PoolClass.POOL_CLASS_BARE_METAL,
  acceleratorModel: '',
  acceleratorCount: 0,
  fp16Tflops: 0,
  fp32Tflops: 0,
  cpuCores: 4,
  memoryGib: 8,
  storageGib: 0,
  durationHours: 2,
  allowedRegions: [],
  userRegionCode: '310000',
  userSite: '',
  maxLatencyMs: 0,
  minBandwidthMbps: 100,
  maxPriceFenPerHour: 0,
  minSecurityLevel: 0,
  minRenewableRatio: 0,
  domesticOnly: false,
}).finish();
/** A pool reached through a dedicated line. */
const CANDIDATE = {
  poolId: 'CN.R0001.RP.00000001X',
  providerParticipantId: 'provider',
  regionCode: '110000',
  site: 'site-1',
  path: {
    kind: PathKind.PATH_KIND_LINE,
    latencyMs: 10,
    bandwidthMbps: 1_000,
    lineId: 'CN.R0001.LN.00000001X',
    linePriceFenPerHour: 100,
  },
  priceFenPerHour: 1_000,
  totalPriceFen: 2_000,
  score: 1,
  breakdown: undefined,
  poolVersion: 1,
};

/**
 * An order left PLACING two minutes ago on a candidate reached through a dedicated line, with
 * its pool hold recorded already or not, for the recovery pass to resume.
 */
async function placingOrder(
  holdId: string | null = null,
  customerReference = '',
): Promise<{ orderId: string; participant: string }> {
  const participant = randomUUID();
  const demandId = randomUUID();
  const orderId = randomUUID();
  const at = new Date(Date.now() - 120_000);
  await db.query(
    `INSERT INTO demand (id, participant_id, customer_reference, demand, weights, top_k, selection,
       state, order_id, created_at, state_changed_at)
     VALUES ($1, $2, $6, $3, '\\x', 10, '\\x', 'ordered', $4, $5, $5)`,
    [demandId, participant, Buffer.from(DEMAND), orderId, at, customerReference],
  );
  await db.query(
    `INSERT INTO market_order (id, demand_id, participant_id, customer_reference, pool_id,
       provider_participant_id, candidate, hold_id, line_hold_id, line_released_at, state, detail,
       version, task_version, created_at, state_changed_at)
     VALUES ($1, $2, $3, $7, 'CN.R0001.RP.00000001X', 'provider', $4, $6, NULL, NULL,
       'placing', '', 1, 0, $5, $5)`,
    [
      orderId,
      demandId,
      participant,
      Buffer.from(Candidate.encode(CANDIDATE).finish()),
      at,
      holdId,
      customerReference,
    ],
  );
  return { orderId, participant };
}

/** The user who submitted an order's demand, as the service sees a verified caller. */
function userOf(participant: string): Caller {
  return {
    subject: participant,
    roles: ['user'],
    tenant: participant,
    tokenId: randomUUID(),
    expiresAt: new Date(Date.now() + 600_000),
  };
}

describe('a cancellation that lands while its order is being confirmed', () => {
  it('leaves the line reserved while the task may still run', async () => {
    // An order left PLACING on a candidate reached through a dedicated line, resumed by the
    // recovery pass; the user cancels it while resource aggregation confirms the pool's hold.
    const { orderId, participant } = await placingOrder();
    const user = userOf(participant);
    peers.stopping.add(peers.poolHold);
    let cancelled = false;
    peers.duringConfirm = async () => {
      cancelled = (await market.cancelOrder(user, orderId, 'plans changed')).state === 'cancelled';
    };

    expect(await market.resumeUnfinished()).toBe(1);
    expect(cancelled).toBe(true);
    const { rows } = await db.query<{ state: string; hold_id: string; line_hold_id: string }>(
      'SELECT state, hold_id, line_hold_id FROM market_order WHERE id = $1',
      [orderId],
    );
    expect(rows[0]).toEqual({
      state: 'cancelled',
      hold_id: peers.poolHold,
      line_hold_id: peers.lineHold,
    });
    expect(peers.releasedLines).toEqual([]);
    expect(await released(orderId)).toBe(false);

    // Once the task has stopped, the recovery pass gives the line back.
    peers.stopping.delete(peers.poolHold);
    expect(await market.releaseEndedLines()).toBe(1);
    expect(peers.releasedLines).toEqual([peers.lineHold]);
  });
});

describe('an attempt whose confirmation another attempt has overtaken', () => {
  it('leaves a confirmed order confirmed and its holds held', async () => {
    // The pool hold was recorded by an attempt that then failed; the recovery pass resumes the
    // order. While it confirms, a retry of PlaceOrder confirms the order, and the task ends at
    // once: the pass's own confirmation finds the hold ended.
    const { orderId } = await placingOrder(peers.poolHold);
    peers.confirmRefused = true;
    peers.duringConfirm = async () => {
      await db.query(
        `UPDATE market_order SET state = 'confirmed', version = 2, line_hold_id = $2 WHERE id = $1`,
        [orderId, peers.lineHold],
      );
    };

    expect(await market.resumeUnfinished()).toBe(1);
    const { rows } = await db.query<{ state: string; version: number }>(
      'SELECT state, version FROM market_order WHERE id = $1',
      [orderId],
    );
    // Not refused (a final state that would hide the task's real outcome), nothing given back.
    expect(rows[0]).toEqual({ state: 'confirmed', version: 2 });
    expect(peers.releasedHolds).toEqual([]);
    expect(peers.releasedLines).toEqual([]);
  });

  it("refuses a reseller's order resumed after its qualification lapsed, and gives back what it held", async () => {
    const { orderId } = await placingOrder(peers.poolHold, 'customer-7');
    Object.assign(market, {
      qualifications: {
        check: async () => ({ allowed: false, denialReason: 'NO_VALID_QUALIFICATION' }),
      },
    });
    try {
      expect(await market.resumeUnfinished()).toBe(1);
    } finally {
      Object.assign(market, { qualifications: center.service.app.get(QualificationsService) });
    }
    const { rows } = await db.query<{ state: string; detail: string }>(
      'SELECT state, detail FROM market_order WHERE id = $1',
      [orderId],
    );
    expect(rows[0]).toMatchObject({
      state: 'refused',
      detail: expect.stringMatching(/^NO_VALID_QUALIFICATION/),
    });
    expect(peers.releasedHolds).toEqual([peers.poolHold]);
  });

  it('gives back the holds the order names, not those of its own older copy, when it refuses', async () => {
    // The recovery pass read the order before another attempt recorded its hold; the reseller's
    // qualification lapsed meanwhile.
    const { orderId, participant } = await placingOrder(peers.poolHold, 'customer-8');
    const olderCopy = { ...(await market.getOrder(userOf(participant), orderId)), holdId: null };
    Object.assign(market, {
      qualifications: {
        check: async () => ({ allowed: false, denialReason: 'NO_VALID_QUALIFICATION' }),
      },
    });
    try {
      const complete = (market as unknown as { complete(o: unknown): Promise<{ state: string }> })
        .complete;
      expect((await complete.call(market, olderCopy)).state).toBe('refused');
    } finally {
      Object.assign(market, { qualifications: center.service.app.get(QualificationsService) });
    }
    expect(peers.releasedHolds).toEqual([peers.poolHold]);
  });

  it('refuses a placing order and gives back what it held', async () => {
    const { orderId } = await placingOrder(peers.poolHold);
    peers.confirmRefused = true;

    expect(await market.resumeUnfinished()).toBe(1);
    const { rows } = await db.query<{ state: string }>(
      'SELECT state FROM market_order WHERE id = $1',
      [orderId],
    );
    expect(rows[0].state).toBe('refused');
    expect(peers.releasedHolds).toEqual([peers.poolHold]);
  });
});

describe("a cancellation whose hold's release resource aggregation refuses", () => {
  it('answers FAILED_PRECONDITION with the reason and leaves the order as it was', async () => {
    const { orderId, participant } = await placingOrder(peers.poolHold);
    await db.query(`UPDATE market_order SET state = 'confirmed', version = 2 WHERE id = $1`, [
      orderId,
    ]);
    // A lasting refusal, as the peers client makes of an INVALID_ARGUMENT (a newer aggregation
    // refusing what this one sends).
    peers.releaseRefusal = new CapacityRefusal('INVALID_REQUEST', 'reason: is too long', false);
    const user = userOf(participant);
    const refusal = await market
      .cancelOrder(user, orderId, 'plans changed')
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(FailedPreconditionError);
    expect(refusal).toMatchObject({
      reason: 'HOLD_RELEASE_REFUSED',
      metadata: { order_id: orderId, refusal: 'INVALID_REQUEST' },
    });
    const { rows } = await db.query<{ state: string }>(
      'SELECT state FROM market_order WHERE id = $1',
      [orderId],
    );
    expect(rows[0].state).toBe('confirmed');
  });
});

describe('an order on candidates selected too long ago', () => {
  /** An open demand with CANDIDATE among its candidates, selected `secondsAgo`. */
  async function openDemand(
    secondsAgo: number,
  ): Promise<{ demandId: string; participant: string }> {
    const demandId = randomUUID();
    const participant = randomUUID();
    const at = new Date(Date.now() - secondsAgo * 1000);
    const selection = SelectionSnapshot.encode({
      candidates: [CANDIDATE],
      matched: 1,
      considered: 1,
      eliminations: [],
      selectedAt: toTimestamp(at),
    }).finish();
    await db.query(
      `INSERT INTO demand (id, participant_id, customer_reference, demand, weights, top_k, selection,
         state, order_id, created_at, state_changed_at)
       VALUES ($1, $2, '', $3, '\\x', 10, $4, 'open', NULL, $5, $5)`,
      [demandId, participant, Buffer.from(DEMAND), Buffer.from(selection), at],
    );
    return { demandId, participant };
  }
  const place = (demandId: string, participant: string) =>
    market.placeOrder(userOf(participant), {
      requestId: `order-${demandId}`,
      demandId,
      poolId: CANDIDATE.poolId,
    });

  it('refuses it, naming when they were selected, and places nothing', async () => {
    const { demandId, participant } = await openDemand(2 * 3_600);
    const refusal = await place(demandId, participant).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(FailedPreconditionError);
    expect(refusal).toMatchObject({
      reason: 'CANDIDATES_EXPIRED',
      metadata: { max_age_seconds: '1800' },
    });
    const { rows } = await db.query('SELECT id FROM market_order WHERE demand_id = $1', [demandId]);
    expect(rows).toEqual([]);
  });

  it('places one on candidates selected within the limit', async () => {
    const { demandId, participant } = await openDemand(60);
    const { order } = await place(demandId, participant);
    expect(order.state).toBe('confirmed');
  });
});

describe("a reseller's demand while its qualification is revoked", () => {
  it('is refused when the revocation lands while compute selection answers', async () => {
    const reseller = randomUUID();
    let allowed = true;
    Object.assign(market, {
      qualifications: {
        assertMayActForCustomers: async () => {
          if (!allowed)
            throw new PermissionDeniedError('NO_VALID_QUALIFICATION', 'qualification revoked');
        },
      },
    });
    peers.duringSelect = async () => {
      allowed = false;
    };
    try {
      const refusal = await market
        .submitDemand(
          { ...userOf(reseller), roles: ['reseller'] },
          {
            requestId: 'demand-while-revoked',
            customerReference: 'customer-9',
            demand: Demand.decode(DEMAND),
            weights: undefined,
            topK: 5,
          },
        )
        .catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(PermissionDeniedError);
    } finally {
      Object.assign(market, { qualifications: center.service.app.get(QualificationsService) });
    }
    const { rows } = await db.query('SELECT id FROM demand WHERE participant_id = $1', [reseller]);
    expect(rows).toEqual([]);
  });
});

/**
 * Whether Postgres showed `client`'s statement waiting for a lock: true once it does, false once
 * `done` says the statement finished without being seen waiting; fails after 10 s.
 */
async function waitUntilBlocked(client: Client, done: () => boolean): Promise<boolean> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (typeof pid !== 'number') throw new Error('the pg client does not say its backend pid');
  for (let i = 0; i < 500; i++) {
    const { rows } = await db.query<{ wait_event_type: string | null }>(
      'SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1',
      [pid],
    );
    if (rows[0]?.wait_event_type === 'Lock') return true;
    if (done()) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`backend ${pid} never waited for a lock`);
}

/** Revokes a qualification as the service does (its row's revocation columns). */
async function revoke(qualification: string): Promise<void> {
  await db.query(
    `UPDATE qualification SET revoked_at = now(), revoked_by = 'test', revoke_reason = 'race',
       version = version + 1 WHERE id = $1`,
    [qualification],
  );
}

/** A certified reseller with one qualification valid for a day, written as the service writes them. */
async function qualifiedReseller(
  reseller: string = randomUUID(),
): Promise<{ reseller: string; qualification: string }> {
  const qualification = randomUUID();
  await db.query(
    `INSERT INTO participant (id, kind, user_category, name, state, organization, individual,
       version, created_by, created_at, updated_at)
     VALUES ($1, $2, 0, 'Racing Reseller', $3, NULL, NULL, 1, 'test', now(), now())`,
    [
      reseller,
      ParticipantKind.PARTICIPANT_KIND_RESELLER,
      ParticipantState.PARTICIPANT_STATE_CERTIFIED,
    ],
  );
  await db.query(
    `INSERT INTO qualification (id, participant_id, version, valid_from, valid_until, granted_by,
       grant_reason, created_at)
     VALUES ($1, $2, 1, now() - interval '1 hour', now() + interval '1 day', 'test', 'test', now())`,
    [qualification, reseller],
  );
  return { reseller, qualification };
}

describe("a reseller's demand and a revocation of its qualification at once", () => {
  it('waits for a revocation in flight once Select has answered, and is then refused', async () => {
    const { reseller, qualification } = await qualifiedReseller();
    const revoker = new Client({ connectionString: databaseUrl });
    await revoker.connect();
    let committed: Promise<void> | undefined;
    try {
      // The revocation takes its row while compute selection answers, and commits 500 ms later:
      // the demand's own check comes in between.
      peers.duringSelect = async () => {
        await revoker.query('BEGIN');
        await revoker.query('SELECT id FROM qualification WHERE id = $1 FOR UPDATE', [
          qualification,
        ]);
        await revoker.query(
          `UPDATE qualification SET revoked_at = now(), revoked_by = 'test', revoke_reason = 'race',
             version = version + 1 WHERE id = $1`,
          [qualification],
        );
        committed = new Promise<void>((resolve, reject) => {
          setTimeout(() => {
            revoker.query('COMMIT').then(() => resolve(), reject);
          }, 500);
        });
      };
      const refusal = await market
        .submitDemand(
          { ...userOf(reseller), roles: ['reseller'] },
          {
            requestId: 'demand-racing-revocation',
            customerReference: 'customer-7',
            demand: Demand.decode(DEMAND),
            weights: undefined,
            topK: 5,
          },
        )
        .catch((e: unknown) => e);
      await committed;
      expect(refusal).toBeInstanceOf(PermissionDeniedError);
      expect((refusal as PermissionDeniedError).reason).toBe('NO_VALID_QUALIFICATION');
    } finally {
      await committed?.catch(() => undefined);
      await revoker.end();
    }
    const { rows } = await db.query('SELECT id FROM demand WHERE participant_id = $1', [reseller]);
    expect(rows).toEqual([]);
  });

  it('holds a revocation back until a demand already checked is stored', async () => {
    const { reseller, qualification } = await qualifiedReseller();
    const revoker = new Client({ connectionString: databaseUrl });
    await revoker.connect();
    const qualifications = center.service.app.get(QualificationsService);
    let revocation: Promise<unknown> | undefined;
    let revokedAt = 0;
    let checkedAt = 0;
    let checks = 0;
    let blocked = false;
    try {
      // Right after the demand's second check (the one once Select has answered), a revocation
      // starts; the demand commits only once Postgres shows the revocation waiting for a lock (a
      // revocation that did not wait would have committed by then, and the test fails).
      Object.assign(market, {
        qualifications: {
          assertMayActForCustomers: async (
            ...args: Parameters<QualificationsService['assertMayActForCustomers']>
          ) => {
            await qualifications.assertMayActForCustomers(...args);
            if (++checks < 2) return;
            revocation = revoker
              .query(
                `UPDATE qualification SET revoked_at = now(), revoked_by = 'test',
                   revoke_reason = 'race', version = version + 1 WHERE id = $1`,
                [qualification],
              )
              .then(() => (revokedAt = Date.now()));
            blocked = await waitUntilBlocked(revoker, () => revokedAt !== 0);
            checkedAt = Date.now();
          },
        },
      });
      const { demand } = await market.submitDemand(
        { ...userOf(reseller), roles: ['reseller'] },
        {
          requestId: 'demand-before-revocation',
          customerReference: 'customer-8',
          demand: Demand.decode(DEMAND),
          weights: undefined,
          topK: 5,
        },
      );
      await revocation;
      // The revocation waited for the demand's transaction rather than committing under it.
      expect(checks).toBe(2);
      expect(blocked).toBe(true);
      expect(revokedAt).toBeGreaterThanOrEqual(checkedAt);
      const { rows } = await db.query<{ created_at: Date }>(
        'SELECT created_at FROM demand WHERE id = $1',
        [demand.id],
      );
      expect(rows).toHaveLength(1);
    } finally {
      Object.assign(market, { qualifications });
      await revocation?.catch(() => undefined);
      await revoker.end();
    }
  });
});

describe("a reseller's order while its holds are confirmed", () => {
  /** An order of a certified, qualified reseller for a customer, left PLACING with no hold yet. */
  async function resellersPlacingOrder(): Promise<{ orderId: string; qualification: string }> {
    const { orderId, participant } = await placingOrder(null, 'customer-9');
    const { qualification } = await qualifiedReseller(participant);
    return { orderId, qualification };
  }

  async function holdGivenBack(orderId: string): Promise<boolean> {
    const { rows } = await db.query<{ hold_released_at: Date | null }>(
      'SELECT hold_released_at FROM market_order WHERE id = $1',
      [orderId],
    );
    return rows[0].hold_released_at !== null;
  }

  /** Moves the order's end back past the recovery delay. */
  async function endedLongAgo(orderId: string): Promise<void> {
    await db.query(
      `UPDATE market_order SET state_changed_at = now() - interval '1 hour' WHERE id = $1`,
      [orderId],
    );
  }

  async function orderRow(orderId: string): Promise<{ state: string; detail: string }> {
    const { rows } = await db.query<{ state: string; detail: string }>(
      'SELECT state, detail FROM market_order WHERE id = $1',
      [orderId],
    );
    return rows[0];
  }

  it('is refused before anything is confirmed when the qualification lapsed while its holds were taken', async () => {
    const { orderId, qualification } = await resellersPlacingOrder();
    peers.duringHold = async () => {
      await db.query(
        `UPDATE qualification SET valid_until = now() - interval '1 second', version = version + 1
           WHERE id = $1`,
        [qualification],
      );
    };

    expect(await market.resumeUnfinished()).toBe(1);
    expect(await orderRow(orderId)).toEqual({
      state: 'refused',
      detail: expect.stringMatching(/^NO_VALID_QUALIFICATION/),
    });
    // The provider was never told: neither hold was confirmed, and both were given back.
    expect(peers.confirmed).toEqual([]);
    expect(peers.releasedHolds).toEqual([peers.poolHold]);
    expect(peers.releasedLines).toEqual([peers.lineHold]);
  });

  it('is refused when the qualification was revoked meanwhile, and gives back what it confirmed', async () => {
    const { orderId, qualification } = await resellersPlacingOrder();
    peers.duringConfirm = async () => {
      await revoke(qualification);
    };

    expect(await market.resumeUnfinished()).toBe(1);
    expect(await orderRow(orderId)).toEqual({
      state: 'refused',
      detail: expect.stringMatching(/^NO_VALID_QUALIFICATION/),
    });
    expect(peers.releasedHolds).toEqual([peers.poolHold]);
    expect(await holdGivenBack(orderId)).toBe(true);
    // The confirmed allocation is stopping at the provider: the task may still send its traffic,
    // so the line is kept, even past the recovery delay, until the hold has ended.
    expect(peers.releasedLines).toEqual([]);
    await endedLongAgo(orderId);
    expect(await market.releaseEndedLines()).toBe(0);
    peers.stopping.delete(peers.poolHold);
    expect(await market.releaseEndedLines()).toBe(1);
    expect(peers.releasedLines).toEqual([peers.lineHold]);
  });

  it('gives back a confirmed hold the refusal could not release, in the recovery pass', async () => {
    const { orderId, qualification } = await resellersPlacingOrder();
    peers.duringConfirm = async () => {
      await revoke(qualification);
      peers.releaseUnavailable = true;
    };

    expect(await market.resumeUnfinished()).toBe(1);
    expect((await orderRow(orderId)).state).toBe('refused');
    expect(peers.releasedHolds).toEqual([]);
    expect(await holdGivenBack(orderId)).toBe(false);
    // Resource aggregation back, and the recovery delay passed: the pass releases it, once.
    peers.releaseUnavailable = false;
    expect(await market.releaseEndedHolds()).toBe(0);
    await endedLongAgo(orderId);
    expect(await market.releaseEndedHolds()).toBe(1);
    expect(peers.releasedHolds).toEqual([peers.poolHold]);
    expect(await holdGivenBack(orderId)).toBe(true);
    expect(await market.releaseEndedHolds()).toBe(0);
  });

  it('is refused, not left placing, when its reseller is no longer in the register', async () => {
    const { orderId } = await placingOrder(null, 'customer-10');

    expect(await market.resumeUnfinished()).toBe(1);
    expect(await orderRow(orderId)).toEqual({
      state: 'refused',
      detail: expect.stringMatching(/^PARTICIPANT_NOT_FOUND/),
    });
    expect(peers.confirmed).toEqual([]);
  });

  it('is refused when its allocation event would confirm it after the qualification was revoked', async () => {
    // The placing attempt failed after resource aggregation confirmed the hold; the allocation's
    // event comes in after a revocation: the order is refused, and the hold given back.
    const { orderId, qualification } = await resellersPlacingOrder();
    await db.query('UPDATE market_order SET hold_id = $2 WHERE id = $1', [orderId, peers.poolHold]);
    peers.live.add(peers.poolHold);
    await revoke(qualification);
    const uow = center.service.app.get(UnitOfWork);
    const moved = await uow.run((tx) =>
      market.moveIn(tx, orderId, 'running', 'started', {
        holdId: peers.poolHold,
        poolId: 'CN.R0001.RP.00000001X',
        version: 2,
      }),
    );
    expect(moved?.state).toBe('refused');
    expect(await orderRow(orderId)).toEqual({
      state: 'refused',
      detail: expect.stringMatching(/^NO_VALID_QUALIFICATION/),
    });
    const { rows } = await db.query<{ task_version: number }>(
      'SELECT task_version FROM market_order WHERE id = $1',
      [orderId],
    );
    expect(rows[0].task_version).toBe(2);
    // Given back after the commit, without holding up the next event (so waited for here).
    for (let i = 0; i < 250 && !(await holdGivenBack(orderId)); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(peers.releasedHolds).toEqual([peers.poolHold]);
    expect(await holdGivenBack(orderId)).toBe(true);
    // Nothing is left for the recovery pass.
    expect(await market.resumeUnfinished()).toBe(0);
  });

  it.each([
    {
      what: 'a revocation',
      reason: 'NO_VALID_QUALIFICATION',
      lock: 'SELECT id FROM qualification WHERE id = $1 FOR UPDATE',
      change: `UPDATE qualification SET revoked_at = now(), revoked_by = 'test',
                 revoke_reason = 'race', version = version + 1 WHERE id = $1`,
      row: 'qualification' as const,
    },
    {
      what: 'a suspension',
      reason: 'PARTICIPANT_NOT_CERTIFIED',
      lock: 'SELECT id FROM participant WHERE id = $1 FOR UPDATE',
      change: `UPDATE participant SET state = ${ParticipantState.PARTICIPANT_STATE_SUSPENDED},
                 version = version + 1 WHERE id = $1`,
      row: 'participant' as const,
    },
  ])(
    'waits for $what in flight as it records the order confirmed, and is then refused',
    async ({ reason, lock, change, row }) => {
      const { orderId, qualification } = await resellersPlacingOrder();
      const participant = (
        await db.query<{ participant_id: string }>(
          'SELECT participant_id FROM market_order WHERE id = $1',
          [orderId],
        )
      ).rows[0].participant_id;
      const target = row === 'qualification' ? qualification : participant;
      const changer = new Client({ connectionString: databaseUrl });
      await changer.connect();
      let committed: Promise<number> | undefined;
      try {
        // The change takes its row once resource aggregation has confirmed the hold, and commits
        // 500 ms later: the order's record of its confirmation comes in between.
        peers.duringConfirm = async () => {
          await changer.query('BEGIN');
          await changer.query(lock, [target]);
          await changer.query(change, [target]);
          committed = new Promise<number>((resolve, reject) => {
            setTimeout(() => {
              changer.query('COMMIT').then(() => resolve(Date.now()), reject);
            }, 500);
          });
        };

        expect(await market.resumeUnfinished()).toBe(1);
        const settledAt = Date.now();
        // The order waited for the change rather than confirming under it.
        expect(await committed).toBeLessThanOrEqual(settledAt);
        expect(await orderRow(orderId)).toEqual({
          state: 'refused',
          detail: expect.stringMatching(new RegExp(`^${reason}`)),
        });
        expect(peers.releasedHolds).toEqual([peers.poolHold]);
      } finally {
        await committed?.catch(() => undefined);
        await changer.end();
      }
    },
  );
});
