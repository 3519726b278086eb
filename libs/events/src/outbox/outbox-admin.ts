import { DEFAULT_OUTBOX_CHANNEL } from './outbox.publisher';

/** What an operator sees of a parked outbox row. */
export interface ParkedOutboxRow {
  id: string;
  type: string;
  attempts: number;
  lastError: string;
  createdAt: Date;
  parkedAt: Date;
}

/** Anything that runs a parameterised query: a pg Client or Pool, or a TypeORM DataSource. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * The rows of a query's result: pg answers `{ rows }`; TypeORM answers rows, or `[rows, affected]`
 * for UPDATE ... RETURNING.
 */
function rowsOf<T>(result: unknown): T[] {
  if (!Array.isArray(result)) return (result as { rows: T[] }).rows;
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number')
    return result[0] as T[];
  return result as T[];
}

/** Parked rows, oldest first. */
export async function listParkedOutboxRows(db: Queryable, limit = 100): Promise<ParkedOutboxRow[]> {
  const rows = rowsOf<{
    id: string;
    type: string;
    attempts: number;
    last_error: string | null;
    created_at: Date;
    parked_at: Date;
  }>(
    await db.query(
      `SELECT id, type, attempts, last_error, created_at, parked_at FROM outbox_event
        WHERE published_at IS NULL AND parked_at IS NOT NULL
        ORDER BY parked_at, id LIMIT $1`,
      [limit],
    ),
  );
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    attempts: r.attempts,
    lastError: r.last_error ?? '',
    createdAt: r.created_at,
    parkedAt: r.parked_at,
  }));
}

/**
 * Puts parked rows back in line with a fresh count of attempts: one (`id`) or all of them. The
 * relay publishes them on its next round. Returns how many were requeued.
 */
export async function requeueParkedOutboxRows(db: Queryable, id?: string): Promise<number> {
  const rows = rowsOf<{ id: string }>(
    await db.query(
      `UPDATE outbox_event SET parked_at = NULL, next_attempt_at = NULL, attempts = 0
        WHERE published_at IS NULL AND parked_at IS NOT NULL AND ($1::uuid IS NULL OR id = $1::uuid)
        RETURNING id`,
      [id ?? null],
    ),
  );
  if (rows.length > 0) await db.query(`SELECT pg_notify($1, '')`, [DEFAULT_OUTBOX_CHANNEL]);
  return rows.length;
}
