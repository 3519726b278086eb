/**
 * What TypeORM's `query()` gives for an UPDATE or DELETE on Postgres: `[rows, rowCount]`, where
 * other statements give the rows alone. These read the two parts.
 */
export function affectedRows<T>(result: unknown): T[] {
  return (result as [T[], number])[0];
}

/** The number of rows an UPDATE or DELETE changed (see affectedRows). */
export function affectedCount(result: unknown): number {
  return (result as [unknown[], number])[1];
}

/**
 * The database's clock (`now()`: the start of the current transaction inside one). What replicas
 * judge time by when they must agree — expiries, schedules — whatever their own clocks say.
 */
export async function databaseNow(manager: {
  query<T>(sql: string, parameters?: unknown[]): Promise<T>;
}): Promise<Date> {
  const [row] = await manager.query<Array<{ now: Date }>>(`SELECT now() AS now`);
  return new Date(row.now);
}
