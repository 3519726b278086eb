import { Injectable } from '@nestjs/common';
import { inventoryData, type HeldData, type InventoryData, type PoolData } from '@cinode/contracts';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, affectedCount, affectedRows, type Tx } from '@cinode/database';
import {
  FREE_FIELD_OF,
  POOL_DATA_COLUMNS,
  poolDataOfRow,
  type PoolDataRow,
} from '../pools/pool-view';
import { PoolEntity } from '../pools/pool.entity';
import { InventoryMinuteEntity } from './inventory-minute.entity';

export interface LockedPool {
  poolId: string;
  providerParticipantId: string;
  inventorySequence: number;
}

export interface LatestInventory {
  poolId: string;
  sequence: number;
  observedAt: Date;
  inventory: InventoryData;
}

/**
 * The minute of a timestamptz, as `minuteOf` computes it: whole minutes since the epoch, whatever
 * the session's time zone.
 */
const MINUTE_OF = (column: string) => `date_bin('1 minute', ${column}, timestamptz 'epoch')`;

export interface MinuteRow {
  poolId: string;
  minute: Date;
  sequence: number;
  inventory: InventoryData;
}

/**
 * Inventory writes, each one statement for a whole batch (arrays through unnest), never a row at a
 * time. Reports take `now()` of the database, the clock the liveness sweep compares with.
 */
@Injectable()
export class InventoryRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * The provider's pools among those named, their rows locked in id order (so two batches never
   * deadlock); another provider's rows are neither returned nor locked.
   */
  async lock(tx: Tx, poolIds: string[], providerParticipantId: string): Promise<LockedPool[]> {
    const rows = await tx.manager.query<
      Array<{ pool_id: string; provider_participant_id: string; inventory_sequence: string }>
    >(
      `SELECT pool_id, provider_participant_id, inventory_sequence FROM pool
       WHERE pool_id = ANY($1::varchar[]) AND provider_participant_id = $2
       ORDER BY pool_id FOR UPDATE`,
      [poolIds, providerParticipantId],
    );
    return rows.map((r) => ({
      poolId: r.pool_id,
      providerParticipantId: r.provider_participant_id,
      inventorySequence: Number(r.inventory_sequence),
    }));
  }

  /**
   * Makes each snapshot its pool's latest; the pools report now and are online. A latest it
   * replaces from another minute goes into the minute history (a newer point of that minute
   * already there stays): the pool's row holds its latest minute's point until then, which
   * `history` reads with the table. The history statement is a data-modifying CTE of the update,
   * so it reads each row as it was before. The caller holds the rows' locks (`lock`, first in the
   * transaction): the CTE reads plain snapshot rows, and without the lock a report committing in
   * between would have the update apply to its newer row while the CTE moved the older one.
   * Returns each pool as its events carry it, as of the new version. The rows travel as one JSON
   * document: node-postgres escapes array parameters element by element, which cost more than the
   * update.
   */
  async applyLatest(tx: Tx, latest: LatestInventory[]): Promise<PoolData[]> {
    if (latest.length === 0) return [];
    const rows = affectedRows<PoolDataRow>(
      await tx.manager.query(
        `WITH v AS MATERIALIZED (
           SELECT * FROM jsonb_to_recordset($1::jsonb)
             AS v(pool_id varchar, sequence bigint, observed_at timestamptz, inventory jsonb)
         ), replaced AS (
           INSERT INTO inventory_minute (pool_id, minute, sequence, inventory)
           SELECT p.pool_id, ${MINUTE_OF('p.observed_at')}, p.inventory_sequence, p.inventory
           FROM pool p JOIN v ON v.pool_id = p.pool_id
           WHERE p.inventory IS NOT NULL AND p.observed_at IS NOT NULL
             AND ${MINUTE_OF('p.observed_at')} <> ${MINUTE_OF('v.observed_at')}
           ON CONFLICT (pool_id, minute) DO UPDATE
             SET sequence = excluded.sequence, inventory = excluded.inventory
             WHERE inventory_minute.sequence < excluded.sequence
         )
         UPDATE pool p SET
           inventory = v.inventory,
           inventory_sequence = v.sequence,
           observed_at = v.observed_at,
           last_reported_at = now(),
           state_changed_at = CASE WHEN p.liveness = 'online' THEN p.state_changed_at ELSE now() END,
           liveness = 'online',
           version = p.version + 1
         FROM v WHERE p.pool_id = v.pool_id
         RETURNING ${POOL_DATA_COLUMNS}`,
        [
          JSON.stringify(
            latest.map((l) => ({
              pool_id: l.poolId,
              sequence: l.sequence,
              observed_at: l.observedAt.toISOString(),
              inventory: l.inventory,
            })),
          ),
        ],
      ),
    );
    return rows.map(poolDataOfRow);
  }

  /**
   * Marks pools as reporting (a heartbeat, or a snapshot that was not newer); a pool with
   * inventory comes back online. Returns the ids whose state changed (their version advanced).
   */
  async touch(tx: Tx, poolIds: string[]): Promise<string[]> {
    if (poolIds.length === 0) return [];
    const rows = affectedRows<{ pool_id: string; changed: boolean }>(
      await tx.manager.query(
        `WITH before AS (
         SELECT pool_id, liveness FROM pool WHERE pool_id = ANY($1::varchar[]) FOR UPDATE
       )
       UPDATE pool p SET
         last_reported_at = now(),
         liveness = CASE WHEN p.inventory_sequence > 0 THEN 'online' ELSE p.liveness END,
         state_changed_at = CASE WHEN p.inventory_sequence > 0 AND p.liveness <> 'online'
                                 THEN now() ELSE p.state_changed_at END,
         version = p.version + CASE WHEN p.inventory_sequence > 0 AND p.liveness <> 'online'
                                    THEN 1 ELSE 0 END
       FROM before b WHERE p.pool_id = b.pool_id
       RETURNING p.pool_id, p.liveness <> b.liveness AS changed`,
        [poolIds],
      ),
    );
    return rows.filter((r) => r.changed).map((r) => r.pool_id);
  }

  /**
   * Keeps each minute's last snapshot (one row per pool and minute in `rows`); a pool's latest
   * snapshot is not among them (see `applyLatest`).
   */
  async appendHistory(tx: Tx, rows: MinuteRow[]): Promise<void> {
    if (rows.length === 0) return;
    await tx.manager.query(
      `INSERT INTO inventory_minute (pool_id, minute, sequence, inventory)
       SELECT pool_id, minute, sequence, inventory FROM jsonb_to_recordset($1::jsonb)
         AS v(pool_id varchar, minute timestamptz, sequence bigint, inventory jsonb)
       ON CONFLICT (pool_id, minute) DO UPDATE
         SET sequence = excluded.sequence, inventory = excluded.inventory
         WHERE inventory_minute.sequence < excluded.sequence`,
      [
        JSON.stringify(
          rows.map((r) => ({
            pool_id: r.poolId,
            minute: r.minute.toISOString(),
            sequence: r.sequence,
            inventory: r.inventory,
          })),
        ),
      ],
    );
  }

  /** The pools as their events carry them (read in the transaction that changed them). */
  async poolData(tx: Tx, poolIds: string[]): Promise<PoolData[]> {
    if (poolIds.length === 0) return [];
    const rows = await tx.manager.query<PoolDataRow[]>(
      `SELECT ${POOL_DATA_COLUMNS} FROM pool p WHERE p.pool_id = ANY($1::varchar[])`,
      [poolIds],
    );
    return rows.map(poolDataOfRow);
  }

  /** One page of a pool's history, oldest first, plus one row to tell whether more follow. */
  history(
    poolId: string,
    from: Date | undefined,
    to: Date,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<InventoryMinuteEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(InventoryMinuteEntity)
      .createQueryBuilder('m')
      .where('m.pool_id = :poolId', { poolId })
      .andWhere('m.minute < :to', { to })
      .orderBy('m.minute', 'ASC')
      .limit(limit + 1);
    if (from) query.andWhere('m.minute >= :from', { from });
    if (after) query.andWhere('m.minute > :after', { after: after.after });
    return query.getMany();
  }

  /** Deletes up to `batch` minutes older than the cutoff; returns how many. */
  async prune(cutoff: Date, batch: number): Promise<number> {
    const result: unknown = await this.uow.manager().query(
      `DELETE FROM inventory_minute WHERE ctid IN (
         SELECT ctid FROM inventory_minute WHERE minute < $1 LIMIT $2
       )`,
      [cutoff.toISOString(), batch],
    );
    return affectedCount(result);
  }

  /**
   * The compute map's sums over the pools in selection (filed, online, reporting and not
   * quarantined: what an order can be placed on), in one statement: the totals, each pool once
   * (the row flagged `totals`), and a row per region, class and accelerator model, a pool under
   * each model it offers once ("" when none). Free capacity is net of holds (never below 0), as `netFree`
   * computes it. Summed in the database, so a map over 100,000 pools costs the service a few rows.
   */
  async computeMapSums(regionCode: string | undefined): Promise<ComputeMapSumRow[]> {
    const sums = [
      ...INVENTORY_FIELDS.map((field) => `sum(p.total_${field})::float8 AS "total_${field}"`),
      ...INVENTORY_FIELDS.map((field) => `sum(p.free_${field})::float8 AS "free_${field}"`),
    ].join(', ');
    // Each document read once into typed columns (jsonb_to_record), not a lookup per field.
    const columns = INVENTORY_FIELDS.map((field) => {
      const total = `i."${field}"`;
      const held = HELD_OF[field];
      const free = held ? `greatest(0, ${total} - h."${held}")` : total;
      return `${total} AS total_${field}, ${free} AS free_${field}`;
    }).join(', ');
    const inventoryRecord = INVENTORY_FIELDS.map((field) => `"${field}" float8`).join(', ');
    const heldRecord = Object.values(HELD_OF)
      .map((field) => `"${field}" float8`)
      .join(', ');
    const rows = await this.uow.manager().query<Array<Record<string, unknown>>>(
      `WITH p AS (
         SELECT region_code, pool_class, accelerators, ${columns}
           FROM pool
          CROSS JOIN LATERAL jsonb_to_record(inventory) AS i(${inventoryRecord})
          CROSS JOIN LATERAL jsonb_to_record(held) AS h(${heldRecord})
          WHERE filing = 'filed' AND liveness = 'online' AND inventory IS NOT NULL
            AND NOT quarantined AND ($1::text IS NULL OR region_code = $1)
       )
       SELECT true AS totals, NULL AS region_code, NULL AS pool_class, NULL AS model,
              count(*)::int AS pools, ${sums}
         FROM p
       UNION ALL
       SELECT false, p.region_code, p.pool_class, m.model, count(*)::int, ${sums}
         FROM p
        CROSS JOIN LATERAL (
          SELECT DISTINCT a->>'model' AS model FROM jsonb_array_elements(p.accelerators) a
          UNION ALL
          SELECT '' WHERE jsonb_array_length(p.accelerators) = 0
        ) m
        GROUP BY p.region_code, p.pool_class, m.model`,
      [regionCode ?? null],
    );
    return rows.map((row) => ({
      totals: row.totals === true,
      regionCode: row.region_code as string | null,
      poolClass: row.pool_class as PoolEntity['poolClass'] | null,
      acceleratorModel: row.model as string | null,
      pools: row.pools as number,
      total: inventoryOf(row, 'total_'),
      free: inventoryOf(row, 'free_'),
    }));
  }
}

/** A row of `computeMapSums`: the totals (`totals`, no region, class or model), or one cell. */
export interface ComputeMapSumRow {
  totals: boolean;
  regionCode: string | null;
  poolClass: PoolEntity['poolClass'] | null;
  acceleratorModel: string | null;
  pools: number;
  total: InventoryData;
  free: InventoryData;
}

/** The inventory's fields, as the contract names them (constants, never a caller's text). */
const INVENTORY_FIELDS = Object.keys(inventoryData.shape) as Array<keyof InventoryData>;

/** The held resource each free field is net of (FREE_FIELD_OF the other way round). */
const HELD_OF: Partial<Record<keyof InventoryData, keyof HeldData>> = Object.fromEntries(
  Object.entries(FREE_FIELD_OF).map(([held, free]) => [free, held]),
);

function inventoryOf(row: Record<string, unknown>, prefix: string): InventoryData {
  const inventory = {} as InventoryData;
  // An empty set sums to null: no pools, nothing.
  for (const field of INVENTORY_FIELDS) inventory[field] = Number(row[`${prefix}${field}`] ?? 0);
  return inventory;
}
