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
