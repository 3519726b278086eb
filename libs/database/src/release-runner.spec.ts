import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';

describe('discarding a connection whose ROLLBACK failed', () => {
  // The unit of work relies on this private TypeORM method to hand the error to pg's pool, which
  // then ends the client instead of pooling it. A TypeORM upgrade that renames it fails here,
  // not silently in production by pooling a connection still inside a transaction.
  it("finds TypeORM's Postgres runner able to release with an error", () => {
    const prototype = PostgresQueryRunner.prototype as unknown as Record<string, unknown>;
    expect(typeof prototype.releasePostgresConnection).toBe('function');
    expect((prototype.releasePostgresConnection as (...args: unknown[]) => unknown).length).toBe(1);
  });
});
