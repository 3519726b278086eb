// What the selection benches share: resource aggregation and compute selection as their BUILT
// processes (as production runs them) on the bench's own Postgres and nats-server, resource
// aggregation's database seeded in bulk with pools, and the process figures the benches report.
import { readFile } from 'node:fs/promises';
import type { PoolData } from '@cinode/contracts';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import {
  databaseUrl,
  findFreePort,
  type StartedNats,
  type StartedPostgres,
} from '@cinode/local-infra';
import type {
  SelectRequest,
  SelectionServiceClient,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { PoolClass } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { randomPool } from '@cinode/selection';
import { seededRandom } from '@cinode/common';
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
import { profiling, stopProcess } from './bench-processes';
import { startBenchInfra, waitUntil } from './identifier-fixture';

export const SELECTION_SERVICE = 'cinode.selection.v1.SelectionService';
export const RESOURCE_SERVICE = 'cinode.resource.v1.ResourceService';

/** The latency matrix the selection-index bench uses, so demands meet the same regions. */
export const LATENCY_ENV = {
  LATENCY_SAME_REGION_MS: '2',
  LATENCY_SAME_PROVINCE_MS: '5',
  LATENCY_DEFAULT_MS: '35',
  LATENCY_PROVINCE_MATRIX: '{"31-11": 28}',
};

export interface RunningProcess {
  proc: ServiceProcess;
  port: number;
  metricsPort: number;
  address: string;
}

export interface SelectionNode {
  dir: string;
  postgres: StartedPostgres;
  nats: StartedNats;
  auth: TestAuth;
  aggregation: RunningProcess;
  aggregationDatabaseUrl: string;
  /** Starts a compute-selection (built) following this node's resource aggregation. */
  startSelection(env?: Record<string, string>): Promise<RunningProcess>;
  /** Starts a runtime-monitoring (built) consuming this node's streams, on a database of its own. */
  startMonitoring(env?: Record<string, string>): Promise<RunningProcess>;
}

/**
 * Postgres, nats-server and a built resource-aggregation, plus a way to start built
 * compute-selections against them. Nothing calls the identifier service (pools are seeded filed,
 * no line is registered), so its address points nowhere. Pools stay online for the whole run:
 * liveness is not what these benches measure.
 */
export async function startSelectionNode(
  name: string,
  cleanups: Array<() => unknown>,
): Promise<SelectionNode> {
  const { dir, postgres, nats } = await startBenchInfra(
    name,
    ['resource_aggregation', 'compute_selection'],
    cleanups,
  );
  const auth = await createTestAuth();
  const common = (database: string, grpcPort: number, metricsPort: number) => ({
    DATABASE_URL: databaseUrl(postgres.adminUrl, database),
    NATS_URL: nats.url,
    AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
    AUTH_SERVICE_SIGNING_KEY: auth.serviceSigningKey,
    IDENTIFIER_ADDRESS: '127.0.0.1:9',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
  });
  const start = async (
    service: string,
    database: string,
    env: Record<string, string>,
  ): Promise<RunningProcess> => {
    const port = await findFreePort();
    const metricsPort = await findFreePort();
    const proc = spawnNodeProcess([...profiling(), serviceEntry(service)], {
      ...common(database, port, metricsPort),
      ...env,
    });
    cleanups.push(() => stopProcess(proc));
    const address = `127.0.0.1:${port}`;
    await waitForServing(address, 60_000, proc);
    return { proc, port, metricsPort, address };
  };
  const aggregation = await start('resource-aggregation', 'resource_aggregation', {
    POOL_STALE_AFTER_SECONDS: '3600',
    POOL_OFFLINE_AFTER_SECONDS: '7200',
  });
  return {
    dir,
    postgres,
    nats,
    auth,
    aggregation,
    aggregationDatabaseUrl: databaseUrl(postgres.adminUrl, 'resource_aggregation'),
    startSelection: (env: Record<string, string> = {}) =>
      start('compute-selection', 'compute_selection', {
        ...LATENCY_ENV,
        ...env,
        RESOURCE_AGGREGATION_ADDRESS: aggregation.address,
        RESOURCE_AGGREGATION_TIMEOUT_MS: '60000',
      }),
    startMonitoring: async (env: Record<string, string> = {}) => {
      await postgres.createDatabase('runtime_monitoring');
      return start('runtime-monitoring', 'runtime_monitoring', env);
    },
  };
}

/** How a pool's state is stored: where its filing stands and whether its provider reports. */
const STORED: Record<PoolData['state'], { filing: string; liveness: string }> = {
  online: { filing: 'filed', liveness: 'online' },
  stale: { filing: 'filed', liveness: 'stale' },
  offline: { filing: 'filed', liveness: 'offline' },
  pending_filing: { filing: 'pending', liveness: 'unknown' },
  suspended: { filing: 'suspended', liveness: 'online' },
};

/**
 * Writes pools straight into resource aggregation's tables, as if each had been registered, filed
 * (or not, as their state says) and had reported once: one multi-row INSERT (arrays through unnest) per 5,000 pools. Their
 * identifiers are recorded as filed too, as the identifier service's events would have left them.
 */
export async function seedPools(url: string, pools: PoolData[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const base = Date.now() - pools.length;
    for (let from = 0; from < pools.length; from += 5_000) {
      const chunk = pools.slice(from, from + 5_000);
      const column = <T>(of: (pool: PoolData, i: number) => T): T[] =>
        chunk.map((pool, i) => of(pool, from + i));
      await client.query(
        `INSERT INTO pool (pool_id, provider_participant_id, name, pool_class, site, region_code,
           accelerators, security_level, datacenter_tier, pue, renewable_ratio, gflops_per_watt,
           price, filing, liveness, inventory, inventory_sequence, observed_at, last_reported_at,
           held, version, contract_version, registered_at, state_changed_at)
         SELECT v.pool_id, v.provider, v.name, v.pool_class, v.site, v.region_code,
           v.accelerators, v.security_level, v.datacenter_tier, v.pue, v.renewable_ratio,
           v.gflops_per_watt, v.price, v.filing, v.liveness, v.inventory, v.inventory_sequence,
           now(), now(), v.held, v.version, 1, v.registered_at, now()
         FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[],
           $6::varchar[], $7::jsonb[], $8::smallint[], $9::smallint[], $10::float8[],
           $11::float8[], $12::float8[], $13::jsonb[], $14::varchar[], $15::jsonb[],
           $16::bigint[], $17::jsonb[], $18::bigint[], $19::timestamptz[], $20::varchar[])
           AS v(pool_id, provider, name, pool_class, site, region_code, accelerators,
             security_level, datacenter_tier, pue, renewable_ratio, gflops_per_watt, price,
             liveness, inventory, inventory_sequence, held, version, registered_at, filing)`,
        [
          column((p) => p.poolId),
          column((p) => p.providerParticipantId),
          column((p) => p.name),
          column((p) => p.poolClass),
          column((p) => p.site),
          column((p) => p.regionCode),
          column((p) => JSON.stringify(p.accelerators)),
          column((p) => p.securityLevel),
          column((p) => p.datacenterTier),
          column((p) => p.pue),
          column((p) => p.renewableRatio),
          column((p) => p.gflopsPerWatt),
          column((p) => JSON.stringify(p.price)),
          column((p) => STORED[p.state].liveness),
          column((p) => JSON.stringify(p.inventory)),
          column((p) => p.inventorySequence),
          column((p) => JSON.stringify(p.held)),
          column((p) => p.version),
          // Registered one millisecond apart, in order: ListPools pages by registration.
          column((_p, i) => new Date(base + i).toISOString()),
          column((p) => STORED[p.state].filing),
        ],
      );
      await client.query(
        `INSERT INTO pool_identifier (identifier, filing, version)
         SELECT v.identifier, v.filing, 2 FROM unnest($1::varchar[], $2::varchar[]) AS v(identifier, filing)`,
        [chunk.map((p) => p.poolId), chunk.map((p) => STORED[p.state].filing)],
      );
    }
  } finally {
    await client.end();
  }
}

/** A compute-selection client with a service token (Select allows service, operator, regulator). */
export async function selectionClient(
  auth: TestAuth,
  address: string,
): Promise<{ client: GrpcClient<SelectionServiceClient>; token: string }> {
  const token = await auth.token(['service'], 'service-center', undefined, 3_600);
  const client = createGrpcClient<SelectionServiceClient>(SELECTION_SERVICE, {
    address,
    credentials: plaintext(),
    token: () => token,
    defaultTimeoutMs: 10_000,
  });
  return { client, token };
}

/** Waits until the index is built and holds `pools` pools; the time it took, in ms. */
export async function waitForIndex(
  client: GrpcClient<SelectionServiceClient>,
  pools: number,
  limitMs: number,
): Promise<number> {
  const started = Date.now();
  await waitUntil(
    async () => {
      try {
        const status = await client.api.getIndexStatus({});
        return status.ready && status.pools === pools;
      } catch {
        return false;
      }
    },
    `the offer index to hold ${pools} pools`,
    limitMs,
    200,
  );
  return Date.now() - started;
}

/** A process's resident set (VmRSS) in bytes. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kib) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib[1]) * 1024;
}

/**
 * The resident set once it has settled: sampled every 500 ms until two samples in a row differ by
 * less than 1 MiB (collections done), at most `limitMs`; the last sample.
 */
export async function settledRss(pid: number, limitMs = 15_000): Promise<number> {
  const deadline = Date.now() + limitMs;
  let last = await rssOf(pid);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await rssOf(pid);
    if (Math.abs(now - last) < 1024 * 1024) return now;
    last = now;
  }
  return last;
}

/**
 * A typical demand: eight cards of one model on bare metal for three days, some CPU, memory and
 * storage, at security level 3 or better, within 30 ms of a user in Shanghai (its own region, the
 * same province and Beijing qualify), default weights, the top 10.
 */
export const TYPICAL_SELECT: SelectRequest = {
  demand: {
    poolClass: PoolClass.POOL_CLASS_BARE_METAL,
    acceleratorModel: 'H800',
    acceleratorCount: 8,
    fp16Tflops: 0,
    fp32Tflops: 0,
    cpuCores: 64,
    memoryGib: 512,
    storageGib: 2_000,
    durationHours: 72,
    allowedRegions: [],
    userRegionCode: '310000',
    userSite: '',
    maxLatencyMs: 30,
    minBandwidthMbps: 1_000,
    maxPriceFenPerHour: 0,
    minSecurityLevel: 3,
    minRenewableRatio: 0,
    domesticOnly: false,
  },
  weights: undefined,
  topK: 10,
};

/**
 * Compute selection with `pools` random pools (the selection-index bench's), written into
 * aggregation's database as registered, filed and reporting, and its index built from them through
 * ListPools as a replica does at start. h2load repeats one request: with Select's answer cache on,
 * every call after the first would be a cached answer, so the cache is off (the search is measured).
 */
export async function startLoadedSelection(
  node: SelectionNode,
  pools: number,
  cleanups: Array<() => unknown>,
  env: Record<string, string> = {},
): Promise<{
  selection: RunningProcess;
  client: GrpcClient<SelectionServiceClient>;
  token: string;
  seedMs: number;
  startMs: number;
  buildMs: number;
}> {
  const random = seededRandom(8_2026);
  let started = Date.now();
  await seedPools(
    node.aggregationDatabaseUrl,
    Array.from({ length: pools }, (_, i) => randomPool(random, i)),
  );
  const seedMs = Date.now() - started;
  started = Date.now();
  const selection = await node.startSelection({ SELECT_ANSWER_CACHE_SIZE: '0', ...env });
  const { client, token } = await selectionClient(node.auth, selection.address);
  cleanups.push(() => client.close());
  const buildMs = await waitForIndex(client, pools, 120_000);
  return { selection, client, token, seedMs, startMs: Date.now() - started, buildMs };
}
