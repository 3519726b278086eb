import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import type { HeldData, InventoryData } from '@cinode/contracts';
import {
  DomainError,
  FieldChecks,
  NotFoundError,
  PageTokens,
  resolvePageSize,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type {
  InventorySnapshot,
  ListInventoryHistoryRequest,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { ResourceAggregationConfig } from '../config';
import { ErrorReason } from '../errors';
import { maySee } from '../pools/pool-access';
import { checkPoolId, poolNotFound } from '../pools/pool-input';
import { EMPTY_INVENTORY, FREE_FIELD_OF, poolsReportedEvents } from '../pools/pool-view';
import type { PoolEntity } from '../pools/pool.entity';
import { PoolsRepository } from '../pools/pools.repository';
import type { InventoryMinuteEntity } from './inventory-minute.entity';
import {
  MAX_SNAPSHOTS_PER_BATCH,
  checkSnapshots,
  historyKeptSince,
  minuteOf,
  type CheckedSnapshot,
} from './inventory-input';
import { InventoryRepository, type LatestInventory, type MinuteRow } from './inventory.repository';

export interface IngestResult {
  applied: number;
  ignored: number;
}

/** Totals and free capacity of one region, class and accelerator model. */
export interface ComputeMapCellData {
  regionCode: string;
  poolClass: PoolEntity['poolClass'];
  acceleratorModel: string;
  pools: number;
  total: InventoryData;
  free: InventoryData;
}

@Injectable()
export class InventoryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly inventory: InventoryRepository,
    private readonly pools: PoolsRepository,
    private readonly pageTokens: PageTokens,
    @InjectConfig() private readonly config: ResourceAggregationConfig,
  ) {}

  /**
   * Applies a batch of the caller's snapshots in one transaction: each pool's newest snapshot above
   * its latest sequence becomes its inventory, every newer one lands in the minute history, and the
   * rest are ignored. Every pool named reports now (a heartbeat). One event per pool that changed.
   */
  report(caller: Caller, snapshots: InventorySnapshot[]): Promise<IngestResult> {
    return this.reportBatches(caller, [snapshots]);
  }

  /**
   * Applies consecutive batches of one stream in one transaction, with the outcome of applying
   * them one after another: each batch is planned against the sequences the batches before it
   * left, so a snapshot a later batch repeats or undercuts is ignored as it would have been. The
   * first batch that is refused (malformed, or naming a pool the caller does not own) fails the
   * call, after the batches before it are committed. A pool that several of the batches change
   * gets one event, with its final state (events carry whole states; the minute history keeps
   * every minute).
   */
  async reportBatches(
    caller: Caller,
    batches: InventorySnapshot[][],
    /** Of a stream: how many of its batches came before these, to name a refused one by. */
    firstBatch?: number,
  ): Promise<IngestResult> {
    const checked: CheckedSnapshot[][] = [];
    let refusal: Error | undefined;
    for (const batch of batches) {
      try {
        checked.push(checkSnapshots(batch));
      } catch (error) {
        refusal = inBatch(error, firstBatch, checked.length);
        break;
      }
    }
    if (refusal && checked.length === 0) throw refusal;
    const poolIds = [...new Set(checked.flat().map((s) => s.poolId))].sort();
    const outcome = await this.uow.run(async (tx) => {
      const locked = await this.inventory.lock(tx, poolIds, caller.tenant ?? '');
      const byId = new Map(locked.map((p) => [p.poolId, p]));
      let accepted = checked.length;
      let notFound: Error | undefined;
      for (const [b, batch] of checked.entries()) {
        const i = batch.findIndex(
          (snapshot) => byId.get(snapshot.poolId)?.providerParticipantId !== caller.tenant,
        );
        if (i < 0) continue;
        accepted = b;
        notFound = inBatch(
          new NotFoundError(
            ErrorReason.POOL_NOT_FOUND,
            `snapshots[${i}].pool_id: pool ${batch[i].poolId} does not exist`,
          ),
          firstBatch,
          b,
        );
        break;
      }
      // Nothing before the refused batch: nothing to commit.
      if (notFound && accepted === 0) throw notFound;
      const applying = checked.slice(0, accepted);
      const { latest, history, applied } = planBatches(applying, byId);
      const advanced = await this.inventory.applyLatest(tx, latest);
      await this.inventory.appendHistory(tx, history);
      const named = [...new Set(applying.flat().map((s) => s.poolId))].sort();
      const advancedIds = new Set(latest.map((l) => l.poolId));
      const revived = await this.inventory.touch(
        tx,
        named.filter((id) => !advancedIds.has(id)),
      );
      const changed = [...advanced, ...(await this.inventory.poolData(tx, revived))];
      await tx.emit(...poolsReportedEvents(changed));
      tx.objectId = named.length === 1 ? named[0] : `${named.length} pools`;
      const snapshots = applying.reduce((sum, batch) => sum + batch.length, 0);
      return { result: { applied, ignored: snapshots - applied }, notFound };
    });
    if (outcome.notFound) throw outcome.notFound;
    if (refusal) throw refusal;
    return outcome.result;
  }

  /** Marks the caller's pools as reporting; a pool with inventory comes back online. */
  async heartbeat(caller: Caller, poolIdsInput: string[]): Promise<number> {
    const checks = new FieldChecks();
    if (poolIdsInput.length === 0) checks.add('pool_ids', 'must name at least one pool');
    if (poolIdsInput.length > MAX_SNAPSHOTS_PER_BATCH)
      checks.add('pool_ids', `must name at most ${MAX_SNAPSHOTS_PER_BATCH} pools`);
    checks.throwIfAny();
    const poolIds = poolIdsInput.map((id, i) => checkPoolId(checks, `pool_ids[${i}]`, id));
    checks.throwIfAny();
    const unique = [...new Set(poolIds)].sort();
    return this.uow.run(async (tx) => {
      const locked = await this.inventory.lock(tx, unique, caller.tenant ?? '');
      const owned = new Set(
        locked.filter((p) => p.providerParticipantId === caller.tenant).map((p) => p.poolId),
      );
      const missing = unique.find((id) => !owned.has(id));
      if (missing) throw poolNotFound(missing);
      const revived = await this.inventory.touch(tx, unique);
      await tx.emit(...poolsReportedEvents(await this.inventory.poolData(tx, revived)));
      tx.objectId = unique.length === 1 ? unique[0] : `${unique.length} pools`;
      return unique.length;
    });
  }

  async history(
    caller: Caller,
    request: ListInventoryHistoryRequest,
  ): Promise<{ points: InventoryMinuteEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    const checks = new FieldChecks();
    const poolId = checkPoolId(checks, 'pool_id', request.poolId);
    checks
      .timestamp('from', request.from, { required: false })
      .timestamp('to', request.to, { required: false });
    checks.throwIfAny();
    const from = request.from ? fromTimestamp(request.from) : undefined;
    const to = request.to ? fromTimestamp(request.to) : new Date();
    if (from && from >= to) {
      checks.add('from', 'must be before to');
      checks.throwIfAny();
    }
    const pool = await this.pools.findById(poolId);
    if (!pool || !maySee(caller, pool)) throw poolNotFound(poolId);
    // The request's own range: an open end (now) must not change the key from page to page.
    const filterKey = `history:${poolId}:${from?.toISOString() ?? ''}:${request.to ? to.toISOString() : ''}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    // Within the retention, for the table's points as for the row's: the sweep deletes the
    // table's older minutes only every so often.
    const kept = historyKeptSince(this.config);
    const since = from && from > kept ? from : kept;
    const stored = await this.inventory.history(poolId, since, to, limit, after);
    const rows = withLatestPoint(stored, pool, limit, {
      from: since,
      to,
      after: after ? new Date(after.after) : undefined,
    });
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (row) => ({ after: row.minute.toISOString(), afterId: poolId }),
      filterKey,
    );
    return { points: page, nextPageToken };
  }

  /**
   * The compute map over pools in selection: a pool counts once under each accelerator model it
   * offers (under "" when it offers none); free capacity is net of its holds. The totals count
   * each pool once.
   */
  async computeMap(regionCodeInput: string): Promise<{
    cells: ComputeMapCellData[];
    totals: Omit<ComputeMapCellData, 'regionCode' | 'poolClass' | 'acceleratorModel'>;
  }> {
    new FieldChecks()
      .text('region_code', regionCodeInput, {
        required: false,
        max: 6,
        pattern: /^\d{6}$/,
        patternHint: 'must be a six-digit administrative division code',
      })
      .throwIfAny();
    const rows = await this.inventory.computeMapSums(regionCodeInput || undefined);
    let totals: Omit<ComputeMapCellData, 'regionCode' | 'poolClass' | 'acceleratorModel'> = {
      pools: 0,
      total: { ...EMPTY_INVENTORY },
      free: { ...EMPTY_INVENTORY },
    };
    const cells: ComputeMapCellData[] = [];
    for (const { totals: isTotals, regionCode, poolClass, acceleratorModel, ...sums } of rows) {
      if (isTotals) totals = sums;
      else
        cells.push({
          regionCode: regionCode!,
          poolClass: poolClass!,
          acceleratorModel: acceleratorModel ?? '',
          ...sums,
        });
    }
    const sorted = cells.sort(
      (a, b) =>
        a.regionCode.localeCompare(b.regionCode) ||
        a.poolClass.localeCompare(b.poolClass) ||
        a.acceleratorModel.localeCompare(b.acceleratorModel),
    );
    return { cells: sorted, totals };
  }
}

/**
 * Which snapshots of a batch apply: per pool, those above its latest sequence (each sequence once);
 * the highest becomes the latest, and each minute keeps its highest. `history` holds the minutes
 * besides each pool's new latest: the latest is its minute's point already, kept in the pool's
 * row, and goes into the history only when a snapshot of another minute replaces it
 * (`InventoryRepository.applyLatest`), so a pool reporting every second writes its history once a
 * minute, not sixty times.
 */
export function planBatch(
  snapshots: CheckedSnapshot[],
  pools: ReadonlyMap<string, { inventorySequence: number }>,
): { latest: LatestInventory[]; history: MinuteRow[]; applied: number } {
  const latest = new Map<string, LatestInventory>();
  const minutes = new Map<string, MinuteRow>();
  const seen = new Set<string>();
  let applied = 0;
  for (const snapshot of snapshots) {
    const current = pools.get(snapshot.poolId)?.inventorySequence ?? 0;
    const key = `${snapshot.poolId}\u0000${snapshot.sequence}`;
    if (snapshot.tooOld || snapshot.sequence <= current || seen.has(key)) continue;
    seen.add(key);
    applied += 1;
    const best = latest.get(snapshot.poolId);
    if (!best || snapshot.sequence > best.sequence) latest.set(snapshot.poolId, snapshot);
    const row = minuteRowOf(snapshot);
    const minuteKey = `${snapshot.poolId}\u0000${row.minute.getTime()}`;
    const kept = minutes.get(minuteKey);
    if (!kept || snapshot.sequence > kept.sequence) minutes.set(minuteKey, row);
  }
  return { latest: [...latest.values()], history: besideLatest(minutes, latest), applied };
}

/**
 * Plans batches as if applied one after another: each against the sequences the ones before it
 * left. The newest applied snapshot of each pool becomes its latest; each minute keeps its newest,
 * and `history` holds the minutes besides the latest's, as with `planBatch`.
 */
export function planBatches(
  batches: CheckedSnapshot[][],
  pools: ReadonlyMap<string, { inventorySequence: number }>,
): { latest: LatestInventory[]; history: MinuteRow[]; applied: number } {
  if (batches.length === 1) return planBatch(batches[0], pools);
  const current = new Map(pools);
  const latest = new Map<string, LatestInventory>();
  const minutes = new Map<string, MinuteRow>();
  let applied = 0;
  for (const batch of batches) {
    const plan = planBatch(batch, current);
    applied += plan.applied;
    for (const l of plan.latest) {
      latest.set(l.poolId, l);
      current.set(l.poolId, { inventorySequence: l.sequence });
    }
    // A batch's latest left its history: it is a point of its minute until a later batch
    // replaces it, and then that minute keeps it unless another of its snapshots is newer.
    for (const row of [...plan.history, ...plan.latest.map(minuteRowOf)]) {
      const key = `${row.poolId}\u0000${row.minute.getTime()}`;
      const kept = minutes.get(key);
      if (!kept || row.sequence > kept.sequence) minutes.set(key, row);
    }
  }
  return { latest: [...latest.values()], history: besideLatest(minutes, latest), applied };
}

function minuteRowOf(snapshot: LatestInventory): MinuteRow {
  return {
    poolId: snapshot.poolId,
    minute: minuteOf(snapshot.observedAt),
    sequence: snapshot.sequence,
    inventory: snapshot.inventory,
  };
}

/** The minutes' points, but for each pool's latest snapshot (the highest sequence of its pool). */
function besideLatest(
  minutes: ReadonlyMap<string, MinuteRow>,
  latest: ReadonlyMap<string, LatestInventory>,
): MinuteRow[] {
  return [...minutes.values()].filter((row) => latest.get(row.poolId)?.sequence !== row.sequence);
}

/**
 * A page of stored minutes with the pool's latest snapshot as its minute's point: it lives in the
 * pool's row until a snapshot of another minute replaces it (`InventoryRepository.applyLatest`).
 * It joins the page when its minute is in the range (`from`, the later of the request's and the
 * retention's start), past the page's start, and newer than a stored point of the same minute; `stored` and the result hold at most
 * `limit + 1` points, oldest first (the last one tells that more follow).
 */
export function withLatestPoint(
  stored: InventoryMinuteEntity[],
  pool: Pick<PoolEntity, 'poolId' | 'inventory' | 'inventorySequence' | 'observedAt'>,
  limit: number,
  range: { from: Date; to: Date; after: Date | undefined },
): InventoryMinuteEntity[] {
  if (!pool.inventory || !pool.observedAt) return stored;
  const minute = minuteOf(pool.observedAt);
  const at = minute.getTime();
  if (
    at >= range.to.getTime() ||
    at < range.from.getTime() ||
    (range.after && at <= range.after.getTime())
  )
    return stored;
  const point: InventoryMinuteEntity = {
    poolId: pool.poolId,
    minute,
    sequence: pool.inventorySequence,
    inventory: pool.inventory,
  };
  const same = stored.findIndex((row) => row.minute.getTime() === at);
  if (same >= 0) {
    if (stored[same].sequence >= point.sequence) return stored;
    return stored.map((row, i) => (i === same ? point : row));
  }
  return [...stored, point]
    .sort((a, b) => a.minute.getTime() - b.minute.getTime())
    .slice(0, limit + 1);
}

const HELD_AND_FREE = Object.entries(FREE_FIELD_OF) as ReadonlyArray<
  [keyof HeldData, keyof InventoryData]
>;

/** A pool's free capacity less what holds take (never below zero). */
export function netFree(pool: Pick<PoolEntity, 'inventory' | 'held'>): InventoryData {
  const free = { ...(pool.inventory ?? EMPTY_INVENTORY) };
  for (const [held, field] of HELD_AND_FREE)
    free[field] = Math.max(0, free[field] - pool.held[held]);
  return free;
}

/**
 * A stream's refusal of one batch, naming it: `batch` in the metadata (0-based, in the order the
 * stream sent them; every batch before it is applied), and in the message. A unary report's
 * refusal (`firstBatch` undefined) is as it was.
 */
function inBatch(error: unknown, firstBatch: number | undefined, index: number): Error {
  if (!(error instanceof DomainError))
    return error instanceof Error ? error : new Error(String(error));
  if (firstBatch === undefined) return error;
  const batch = firstBatch + index;
  return new DomainError(error.kind, error.reason, `batch ${batch}: ${error.message}`, {
    metadata: { ...error.metadata, batch: String(batch) },
    fieldViolations: error.fieldViolations,
    retryAfterSeconds: error.retryAfterSeconds,
  });
}
