import { randomUUID } from 'node:crypto';
import { UnavailableError } from '@cinode/common';
import {
  createTestAuth,
  createTestDatabase,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import type { Caller } from '@cinode/auth';
import { PoolClass, type Pool } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import {
  Candidate,
  Demand,
  PathKind,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { Client } from 'pg';
import type { MarketPeers } from '../src/market/market-peers';
import { MarketService } from '../src/market/market.service';
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

  async holdEnded(holdId: string): Promise<boolean> {
    this.asked.push(holdId);
    if (this.unreachable.has(holdId))
      throw new UnavailableError('AGGREGATION_UNAVAILABLE', 'resource aggregation is down');
    return !this.stopping.has(holdId);
  }

  async releaseLineHold(holdId: string): Promise<void> {
    this.releasedLines.push(holdId);
  }

  // What a placement calls, for the race with a cancellation below.
  readonly poolHold = randomUUID();
  readonly lineHold = randomUUID();
  /** Runs while the pool's hold is being confirmed, before the placement records CONFIRMED. */
  duringConfirm: () => Promise<void> = async () => undefined;

  async getPool(): Promise<Pool> {
    return { spec: { accelerators: [] } } as unknown as Pool;
  }

  async createHold(): Promise<{ holdId: string }> {
    return { holdId: this.poolHold };
  }

  async holdLine(): Promise<{ holdId: string }> {
    return { holdId: this.lineHold };
  }

  async confirmLineHold(): Promise<void> {}

  async confirmHold(): Promise<void> {
    await this.duringConfirm();
  }

  /** A confirmed hold's release leaves it STOPPING while its task may run. */
  async releaseHold(holdId: string): Promise<{ taskEnded: boolean; ended: boolean }> {
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
  Object.assign(market, { peers: peers as unknown as MarketPeers, lineCursor: undefined });
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
    // 50 a pass: the first pass sees only stopping ones, the second reaches the one behind them.
    expect(await market.releaseEndedLines(50)).toBe(0);
    expect(await market.releaseEndedLines(50)).toBe(1);
    expect(peers.releasedLines).toEqual([behind.lineHoldId]);
    // Then it starts over from the oldest.
    peers.asked.length = 0;
    await market.releaseEndedLines(50);
    expect(peers.asked[0]).toBe(stuck[0].holdId);
  });

  it('stops a pass at a peer that cannot be reached and starts the next one at that order', async () => {
    const first = await endedOrder('cancelled', 30);
    const down = await endedOrder('cancelled', 20);
    const last = await endedOrder('cancelled', 10);
    peers.unreachable.add(down.holdId);
    // The order behind the unreachable one is not tried: it would wait out the same deadline.
    expect(await market.releaseEndedLines(3)).toBe(1);
    expect(peers.asked).toEqual([first.holdId, down.holdId]);

    peers.unreachable.delete(down.holdId);
    peers.asked.length = 0;
    expect(await market.releaseEndedLines(3)).toBe(2);
    expect(peers.asked).toEqual([down.holdId, last.holdId]);
    expect(await Promise.all([first, down, last].map((o) => released(o.id)))).toEqual([
      true,
      true,
      true,
    ]);
  });
});

describe('a cancellation that lands while its order is being confirmed', () => {
  it('leaves the line reserved while the task may still run', async () => {
    // An order left PLACING on a candidate reached through a dedicated line, resumed by the
    // recovery pass; the user cancels it while resource aggregation confirms the pool's hold.
    const participant = randomUUID();
    const demandId = randomUUID();
    const orderId = randomUUID();
    const at = new Date(Date.now() - 120_000);
    const demand = Demand.encode({
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
    const candidate = Candidate.encode({
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
    }).finish();
    await db.query(
      `INSERT INTO demand (id, participant_id, customer_reference, demand, weights, top_k, selection,
         state, order_id, created_at, state_changed_at)
       VALUES ($1, $2, '', $3, '\\x', 10, '\\x', 'ordered', $4, $5, $5)`,
      [demandId, participant, Buffer.from(demand), orderId, at],
    );
    await db.query(
      `INSERT INTO market_order (id, demand_id, participant_id, customer_reference, pool_id,
         provider_participant_id, candidate, hold_id, line_hold_id, line_released_at, state, detail,
         version, task_version, created_at, state_changed_at)
       VALUES ($1, $2, $3, '', 'CN.R0001.RP.00000001X', 'provider', $4, NULL, NULL, NULL,
         'placing', '', 1, 0, $5, $5)`,
      [orderId, demandId, participant, Buffer.from(candidate), at],
    );
    const user: Caller = {
      subject: participant,
      roles: ['user'],
      tenant: participant,
      tokenId: randomUUID(),
      expiresAt: new Date(Date.now() + 600_000),
    };
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
