import {
  PoolUpdated,
  RiskChanged,
  SECURITY_STREAM,
  eventOf,
  type PoolData,
  type RiskChangedData,
} from '@cinode/contracts';
import { createEnvelope, decodeEnvelope, encodeEnvelope, ensureOwnedStreams } from '@cinode/events';
import type { GrpcClient, RunningGrpcService } from '@cinode/grpc';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  bearer,
  createTestAuth,
  createTestDatabase,
  eventually,
  expectGrpcError,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import { FULL_INVENTORY, insertPool, startAggregation } from './aggregation-harness';

const POOL_ID = 'CN.R0001.RP.000000011';
const UNREGISTERED = 'CN.R0001.RP.000000029';

let nats: TestNats;
let auth: TestAuth;
let nc: NatsConnection;
let db: Client;
let service: RunningGrpcService;
let client: GrpcClient<ResourceServiceClient>;
let token: string;
let updates: Subscription;
const updated: PoolData[] = [];

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  nc = await connect({ servers: nats.url });
  // The security service owns the stream; here the test stands in for it.
  await ensureOwnedStreams(await nc.jetstreamManager(), [SECURITY_STREAM]);
  const databaseUrl = await createTestDatabase('resource');
  ({ service, client } = await startAggregation(databaseUrl, nats.url, auth.publicKeys, {
    SWEEP_INTERVAL_MS: '600000',
  }));
  token = await auth.token(['operator'], 'operator-1');
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  await insertPool(db, POOL_ID);
  updates = nc.subscribe(PoolUpdated.type);
  void (async () => {
    for await (const message of updates)
      updated.push(decodeEnvelope(message.data).data as PoolData);
  })();
}, 60_000);

afterAll(async () => {
  updates?.unsubscribe();
  client?.close();
  await db?.end();
  await service?.stop();
  await nc?.drain();
  await nats?.stop();
});

async function publishRisk(data: Partial<RiskChangedData> & { version: number }): Promise<void> {
  const envelope = createEnvelope(
    'security',
    eventOf(RiskChanged, {
      subjectKind: 'pool',
      subjectId: POOL_ID,
      score: 70,
      level: 'high',
      previousLevel: 'medium',
      securityLevelCap: null,
      quarantined: false,
      providerParticipantId: 'prov-1',
      assessedAt: new Date().toISOString(),
      ...data,
    }),
  );
  await nc.jetstream().publish(envelope.type, encodeEnvelope(envelope), { msgID: envelope.id });
}

/** Waits until the expectations hold (the probe throws until they do). */
const until = (what: string, check: () => Promise<void> | void) =>
  eventually(what, async () => {
    await check();
    return true;
  });

const getPool = () =>
  client.api.getPool({ poolId: POOL_ID }, { metadata: bearer(token) }).then((r) => r.pool);

describe('resource aggregation following pool risk (SECURITY stream)', () => {
  it('caps a pool on RiskChanged: GetPool shows it, and a PoolUpdated carries it', async () => {
    await publishRisk({ version: 2, securityLevelCap: 1 });
    await until('the capped pool', async () => {
      expect(await getPool()).toMatchObject({
        securityLevelCap: 1,
        quarantined: false,
        version: 2,
      });
    });
    await until('its PoolUpdated', () =>
      expect(updated).toContainEqual(
        expect.objectContaining({ poolId: POOL_ID, version: 2, securityLevelCap: 1 }),
      ),
    );
  });

  it('ignores an older risk, then applies a newer quarantine', async () => {
    await publishRisk({ version: 1, securityLevelCap: null, quarantined: false });
    await publishRisk({ version: 3, securityLevelCap: 1, quarantined: true });
    await until('the quarantined pool', async () => {
      expect(await getPool()).toMatchObject({ securityLevelCap: 1, quarantined: true, version: 3 });
    });
    await until('its PoolUpdated', () =>
      expect(updated.map((u) => [u.version, u.securityLevelCap, u.quarantined])).toEqual([
        [2, 1, false],
        [3, 1, true],
      ]),
    );
  });

  it('records the risk of a pool not registered yet', async () => {
    await publishRisk({ version: 4, subjectId: UNREGISTERED, securityLevelCap: 2 });
    await until('the recorded risk', async () => {
      const { rows } = await db.query<{ security_level_cap: number; version: string }>(
        `SELECT security_level_cap, version FROM pool_risk WHERE pool_id = $1`,
        [UNREGISTERED],
      );
      expect(rows).toEqual([{ security_level_cap: 2, version: '4' }]);
    });
  });
});

describe('holds on a quarantined pool', () => {
  const resources = { cpuCores: 4, gpuCards: 1, npuCards: 0, memoryGib: 16, storageGib: 0 };
  const setQuarantined = (quarantined: boolean) =>
    db.query(`UPDATE pool SET quarantined = $1 WHERE pool_id = $2`, [quarantined, POOL_ID]);
  const createHold = (requestId: string) =>
    client.api.createHold(
      { requestId, poolId: POOL_ID, orderReference: 'order-q', resources, ttlSeconds: 60 },
      { metadata: bearer(token) },
    );
  const heldGpus = async () => (await getPool())!.held!.gpuCardsFree;

  beforeAll(async () => {
    await db.query(
      `UPDATE pool SET inventory = $1, inventory_sequence = 1, last_reported_at = now()
       WHERE pool_id = $2`,
      [FULL_INVENTORY, POOL_ID],
    );
  });

  it('refuses a new hold, and the confirmation of one made before, naming the quarantine', async () => {
    await setQuarantined(false);
    const { hold } = await createHold('hold-before-quarantine');
    expect(await heldGpus()).toBe(1);

    await setQuarantined(true);
    const refusedHold = await expectGrpcError(
      createHold('hold-during-quarantine'),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(refusedHold.details).toContain('quarantined');
    expect(refusedHold.status?.errorInfo).toMatchObject({
      reason: 'POOL_NOT_SELECTABLE',
      metadata: { current_state: 'QUARANTINED' },
    });
    const refusedConfirm = await expectGrpcError(
      client.api.confirmHold({ holdId: hold!.holdId }, { metadata: bearer(token) }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(refusedConfirm.status?.errorInfo?.reason).toBe('POOL_NOT_SELECTABLE');
    // Nothing was allocated; the hold is given back as any unconfirmed one.
    expect(await heldGpus()).toBe(1);
    const release = () =>
      client.api.releaseHold(
        { holdId: hold!.holdId, reason: 'pool quarantined' },
        { metadata: bearer(token) },
      );
    expect((await release()).releasedNow).toBe(true);
    expect(await heldGpus()).toBe(0);
    // Released before: this call gave nothing back, and says so.
    expect((await release()).releasedNow).toBe(false);
    expect(await heldGpus()).toBe(0);

    // Nor is it in the compute map (nor so in the capacity reported upward) while quarantined.
    const mapped = async () =>
      (await client.api.getComputeMap({ regionCode: '' }, { metadata: bearer(token) })).pools;
    expect(await mapped()).toBe(0);
    await setQuarantined(false);
    expect(await mapped()).toBe(1);
    const { hold: after } = await createHold('hold-after-quarantine');
    await client.api.confirmHold({ holdId: after!.holdId }, { metadata: bearer(token) });
    expect(await heldGpus()).toBe(1);
  });
});
