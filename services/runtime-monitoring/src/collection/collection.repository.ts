import { Injectable } from '@nestjs/common';
import type { Tx } from '@cinode/database';
import type { Observation } from '../series/metrics';
import type { AllocationSeen, ParticipantState, PoolState } from './interpret';

/** Rows per INSERT statement (Postgres takes at most 65535 parameters). */
const OBSERVATIONS_PER_INSERT = 5_000;
const OBSERVATION_COLUMNS = 10;
const POOL_COLUMNS = 15;

interface PoolRow {
  pool_id: string;
  version: string;
  state: string;
  region_code: string;
  accelerator: string;
  cpu_cores_total: string;
  cpu_cores_free: string;
  gpu_cards_total: string;
  gpu_cards_free: string;
  npu_cards_total: string;
  npu_cards_free: string;
  fp16_tflops_total: number;
  fp16_tflops_free: number;
  fault_since: Date | null;
  updated_at: Date;
}

function poolOfRow(row: PoolRow): PoolState {
  return {
    poolId: row.pool_id,
    version: Number(row.version),
    state: row.state,
    regionCode: row.region_code,
    accelerator: row.accelerator,
    cpuCoresTotal: Number(row.cpu_cores_total),
    cpuCoresFree: Number(row.cpu_cores_free),
    gpuCardsTotal: Number(row.gpu_cards_total),
    gpuCardsFree: Number(row.gpu_cards_free),
    npuCardsTotal: Number(row.npu_cards_total),
    npuCardsFree: Number(row.npu_cards_free),
    fp16TflopsTotal: row.fp16_tflops_total,
    fp16TflopsFree: row.fp16_tflops_free,
    faultSince: row.fault_since,
    updatedAt: row.updated_at,
  };
}

/** Every query of the collection: the staging table and the projections the consumers keep. */
@Injectable()
export class CollectionRepository {
  /** Stages observations with one INSERT per few thousand rows. */
  async stage(tx: Tx, observations: readonly Observation[]): Promise<void> {
    for (let start = 0; start < observations.length; start += OBSERVATIONS_PER_INSERT) {
      const chunk = observations.slice(start, start + OBSERVATIONS_PER_INSERT);
      const values: unknown[] = [];
      const rows = chunk.map((o, i) => {
        values.push(
          o.domain,
          o.metric,
          o.kind,
          o.regionCode,
          o.accelerator,
          o.service,
          o.kindLabel,
          o.observedAt,
          o.value,
          o.weight,
        );
        const base = i * OBSERVATION_COLUMNS;
        return `(${Array.from({ length: OBSERVATION_COLUMNS }, (_, j) => `$${base + j + 1}`).join(', ')})`;
      });
      await tx.manager.query(
        `INSERT INTO observation (domain, metric, kind, region_code, accelerator, service, kind_label, observed_at, value, weight)
         VALUES ${rows.join(', ')}`,
        values,
      );
    }
  }

  /** Serialises the events of one object across replicas until the transaction ends. */
  async lockObject(tx: Tx, kind: string, id: string): Promise<void> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 20261))`, [
      `${kind}:${id}`,
    ]);
  }

  /** The same for several objects, locked in a fixed order so two replicas never deadlock. */
  async lockObjects(tx: Tx, kind: string, ids: readonly string[]): Promise<void> {
    const keys = [...new Set(ids)].sort().map((id) => `${kind}:${id}`);
    await tx.manager.query(
      `SELECT pg_advisory_xact_lock(hashtextextended(k, 20261))
       FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`,
      [keys],
    );
  }

  /** The known state of each of these pools, by pool id. */
  async findPools(tx: Tx, poolIds: readonly string[]): Promise<Map<string, PoolState>> {
    const rows = await tx.manager.query<PoolRow[]>(
      `SELECT * FROM pool_state WHERE pool_id = ANY($1::varchar[])`,
      [poolIds],
    );
    return new Map(rows.map((row) => [row.pool_id, poolOfRow(row)]));
  }

  /** Stores the pools' new states with one upsert. */
  async savePools(tx: Tx, pools: readonly PoolState[]): Promise<void> {
    if (pools.length === 0) return;
    const values: unknown[] = [];
    const rows = pools.map((pool, i) => {
      values.push(
        pool.poolId,
        pool.version,
        pool.state,
        pool.regionCode,
        pool.accelerator,
        pool.cpuCoresTotal,
        pool.cpuCoresFree,
        pool.gpuCardsTotal,
        pool.gpuCardsFree,
        pool.npuCardsTotal,
        pool.npuCardsFree,
        pool.fp16TflopsTotal,
        pool.fp16TflopsFree,
        pool.faultSince,
        pool.updatedAt,
      );
      const base = i * POOL_COLUMNS;
      return `(${Array.from({ length: POOL_COLUMNS }, (_, j) => `$${base + j + 1}`).join(', ')})`;
    });
    await tx.manager.query(
      `INSERT INTO pool_state (pool_id, version, state, region_code, accelerator, cpu_cores_total, cpu_cores_free,
         gpu_cards_total, gpu_cards_free, npu_cards_total, npu_cards_free, fp16_tflops_total, fp16_tflops_free,
         fault_since, updated_at)
       VALUES ${rows.join(', ')}
       ON CONFLICT (pool_id) DO UPDATE SET version = excluded.version, state = excluded.state,
         region_code = excluded.region_code, accelerator = excluded.accelerator,
         cpu_cores_total = excluded.cpu_cores_total, cpu_cores_free = excluded.cpu_cores_free,
         gpu_cards_total = excluded.gpu_cards_total, gpu_cards_free = excluded.gpu_cards_free,
         npu_cards_total = excluded.npu_cards_total, npu_cards_free = excluded.npu_cards_free,
         fp16_tflops_total = excluded.fp16_tflops_total, fp16_tflops_free = excluded.fp16_tflops_free,
         fault_since = excluded.fault_since, updated_at = excluded.updated_at`,
      values,
    );
  }

  async poolRegion(tx: Tx, poolId: string): Promise<string> {
    const rows = await tx.manager.query<{ region_code: string }[]>(
      `SELECT region_code FROM pool_state WHERE pool_id = $1`,
      [poolId],
    );
    return rows[0]?.region_code ?? '';
  }

  async findParticipant(tx: Tx, participantId: string): Promise<ParticipantState | undefined> {
    const rows = await tx.manager.query<
      { participant_id: string; version: number; kind: string; state: string }[]
    >(`SELECT * FROM participant_seen WHERE participant_id = $1`, [participantId]);
    const row = rows[0];
    return row
      ? {
          participantId: row.participant_id,
          version: row.version,
          kind: row.kind,
          state: row.state,
        }
      : undefined;
  }

  async saveParticipant(tx: Tx, participant: ParticipantState): Promise<void> {
    await tx.manager.query(
      `INSERT INTO participant_seen (participant_id, version, kind, state) VALUES ($1, $2, $3, $4)
       ON CONFLICT (participant_id) DO UPDATE SET version = excluded.version, kind = excluded.kind, state = excluded.state`,
      [participant.participantId, participant.version, participant.kind, participant.state],
    );
  }

  async recordDemand(tx: Tx, demandId: string, submittedAt: Date): Promise<void> {
    await tx.manager.query(
      `INSERT INTO demand_seen (demand_id, submitted_at) VALUES ($1, $2) ON CONFLICT (demand_id) DO NOTHING`,
      [demandId, submittedAt],
    );
  }

  async demandSubmittedAt(tx: Tx, demandId: string): Promise<Date | undefined> {
    const rows = await tx.manager.query<{ submitted_at: Date }[]>(
      `SELECT submitted_at FROM demand_seen WHERE demand_id = $1`,
      [demandId],
    );
    return rows[0]?.submitted_at;
  }

  async findAllocation(tx: Tx, allocationId: string): Promise<AllocationSeen | undefined> {
    const rows = await tx.manager.query<{ created_at: Date; running_at: Date | null }[]>(
      `SELECT created_at, running_at FROM allocation_seen WHERE allocation_id = $1`,
      [allocationId],
    );
    const row = rows[0];
    return row ? { createdAt: row.created_at, runningAt: row.running_at } : undefined;
  }

  async recordAllocation(tx: Tx, allocationId: string, createdAt: Date): Promise<void> {
    await tx.manager.query(
      `INSERT INTO allocation_seen (allocation_id, created_at) VALUES ($1, $2) ON CONFLICT (allocation_id) DO NOTHING`,
      [allocationId, createdAt],
    );
  }

  async markRunning(tx: Tx, allocationId: string, runningAt: Date): Promise<void> {
    await tx.manager.query(
      `UPDATE allocation_seen SET running_at = $2 WHERE allocation_id = $1 AND running_at IS NULL`,
      [allocationId, runningAt],
    );
  }

  /** Deletes the timing rows of demands and allocations older than `before`. */
  async prune(tx: Tx, before: Date): Promise<void> {
    await tx.manager.query(`DELETE FROM demand_seen WHERE submitted_at < $1`, [before]);
    await tx.manager.query(`DELETE FROM allocation_seen WHERE created_at < $1`, [before]);
  }
}
