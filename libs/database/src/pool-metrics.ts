import { dbPoolConnections } from '@cinode/telemetry';
import { DataSource } from 'typeorm';

/** The counters node-postgres keeps on its Pool. */
export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
}

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

function isPgPool(value: unknown): value is PgPoolLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.totalCount === 'number' &&
    typeof v.idleCount === 'number' &&
    typeof v.waitingCount === 'number'
  );
}

/** Reads the pg Pool under TypeORM's Postgres driver; undefined before initialize() or for other drivers. */
export function readPoolFigures(dataSource: DataSource): PoolFigures | undefined {
  if (!dataSource.isInitialized) return undefined;
  // TypeORM types the pool as `any`; read it as unknown and check its shape instead of trusting it.
  const pool: unknown = (dataSource.driver as { master?: unknown }).master;
  if (!isPgPool(pool)) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

const observed = new Set<DataSource>();
let timer: NodeJS.Timeout | undefined;

/** Sums the figures of every observed data source into `dbPoolConnections`. */
export function refreshPoolMetrics(): void {
  const sum: PoolFigures = { total: 0, idle: 0, waiting: 0 };
  for (const dataSource of observed) {
    const figures = readPoolFigures(dataSource);
    if (!figures) continue;
    sum.total += figures.total;
    sum.idle += figures.idle;
    sum.waiting += figures.waiting;
  }
  dbPoolConnections.set({ state: 'total' }, sum.total);
  dbPoolConnections.set({ state: 'idle' }, sum.idle);
  dbPoolConnections.set({ state: 'waiting' }, sum.waiting);
}

/**
 * Keeps `dbPoolConnections` current for this data source until the returned function is called.
 * The gauge is owned by @cinode/telemetry, so instead of a collect callback a shared, unref'd timer
 * refreshes it (it never keeps the process alive). Call `refreshPoolMetrics()` for an exact figure.
 */
export function observePoolMetrics(dataSource: DataSource, intervalMs = 5_000): () => void {
  observed.add(dataSource);
  refreshPoolMetrics();
  if (!timer) {
    timer = setInterval(refreshPoolMetrics, intervalMs);
    timer.unref();
  }
  return () => {
    observed.delete(dataSource);
    refreshPoolMetrics();
    if (observed.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
