import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import {
  createTestAuth,
  createTestDatabase,
  findFreePort,
  inProcessServiceSettings,
  plaintext,
  startTestNats,
  type TestAuth,
} from '@cinode/testing';
import { Client } from 'pg';
import { resourceAggregationService } from '../src/service';

/** What the integration specs share: resource aggregation in process, and pools written straight in. */

/** A pool's inventory with every unit free: 64 cores, 8 GPUs, 512 GiB memory, 1,000 GiB storage. */
export const FULL_INVENTORY = {
  cpuServers: 1,
  cpuCoresTotal: 64,
  cpuCoresFree: 64,
  gpuServers: 1,
  gpuCardsTotal: 8,
  gpuCardsFree: 8,
  npuServers: 0,
  npuCardsTotal: 0,
  npuCardsFree: 0,
  fp16TflopsTotal: 100,
  fp16TflopsFree: 100,
  fp32TflopsTotal: 50,
  fp32TflopsFree: 50,
  memoryGibTotal: 512,
  memoryGibFree: 512,
  storageGibTotal: 1000,
  storageGibFree: 1000,
  uplinkMbpsTotal: 1000,
  uplinkMbpsFree: 1000,
  uplinkTrafficGbFree: 0,
  downlinkMbpsTotal: 1000,
  downlinkMbpsFree: 1000,
  downlinkTrafficGbFree: 0,
};

export interface RunningAggregation {
  service: RunningGrpcService;
  client: GrpcClient<ResourceServiceClient>;
}

/** Resource aggregation in this process on a loopback port, with the spec's settings on top. */
export async function startAggregation(
  databaseUrl: string,
  natsUrl: string,
  publicKeys: string,
  env: Record<string, string>,
): Promise<RunningAggregation> {
  const port = await findFreePort();
  const config = resourceAggregationService.loadConfig({
    ...inProcessServiceSettings({ databaseUrl: databaseUrl, natsUrl: natsUrl, publicKeys, port }),
    EVENT_RETRY_INITIAL_MS: '100',
    EVENT_RETRY_MAX_MS: '500',
    // Never called: pools are written straight into the database.
    IDENTIFIER_ADDRESS: '127.0.0.1:1',
    ...env,
  });
  const service = await startService(
    resourceAggregationService,
    config,
    createLogger({
      service: 'resource-aggregation',
      level: process.env.TEST_LOG_LEVEL ?? 'silent',
    }),
  );
  const client = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
    address: `127.0.0.1:${port}`,
    credentials: plaintext(),
    defaultTimeoutMs: 10_000,
  });
  return { service, client };
}

/** Resource aggregation with its own NATS, test keys and database, and a client of that database. */
export interface AggregationUnderTest extends RunningAggregation {
  auth: TestAuth;
  databaseUrl: string;
  db: Client;
  /** Stops what `startAggregationWithInfra` started, whatever got started. */
  stop(): Promise<void>;
}

/**
 * NATS, test keys, a fresh database, resource aggregation on them (pools stay online an hour
 * without reports unless `env` says otherwise) and a connected database client.
 */
export async function startAggregationWithInfra(
  env: Record<string, string> = {},
): Promise<AggregationUnderTest> {
  const nats = await startTestNats();
  const stops: Array<() => Promise<unknown>> = [() => nats.stop()];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    const auth = await createTestAuth();
    const databaseUrl = await createTestDatabase('resource');
    const running = await startAggregation(databaseUrl, nats.url, auth.publicKeys, {
      POOL_STALE_AFTER_SECONDS: '3600',
      POOL_OFFLINE_AFTER_SECONDS: '7200',
      ...env,
    });
    stops.push(() => running.service.stop());
    stops.push(async () => running.client.close());
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    stops.push(() => db.end());
    return { ...running, auth, databaseUrl, db, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A filed, online class A pool in region 310115, nothing held, written straight into the table. */
export async function insertPool(
  db: Client,
  poolId: string,
  options: {
    providerParticipantId?: string;
    inventory?: typeof FULL_INVENTORY | null;
    lastReportedAt?: Date | null;
  } = {},
): Promise<void> {
  const now = new Date();
  await db.query(
    `INSERT INTO pool (pool_id, provider_participant_id, name, pool_class, site, region_code,
       accelerators, security_level, datacenter_tier, pue, renewable_ratio, gflops_per_watt, price,
       filing, liveness, inventory, inventory_sequence, last_reported_at, held, version,
       contract_version, registered_at, state_changed_at)
     VALUES ($1, $2, 'Lingang GPU', 'A', 'sh-1', '310115', '[]', 3, 4, 1.3, 0.2, 50, $3,
       'filed', 'online', $4, $5, $6, $7, 1, 1, $8, $8)`,
    [
      poolId,
      options.providerParticipantId ?? 'prov-1',
      {
        cpuCoreHourFen: 1,
        gpuCardHourFen: 100,
        npuCardHourFen: 0,
        memoryGibHourFen: 1,
        storageGibHourFen: 1,
      },
      options.inventory ?? null,
      options.inventory ? 1 : 0,
      options.lastReportedAt ?? null,
      { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
      now,
    ],
  );
}
