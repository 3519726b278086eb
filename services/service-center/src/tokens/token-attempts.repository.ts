import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@cinode/database';
import { In } from 'typeorm';
import { TokenAttemptFailureEntity } from './token-attempt-failure.entity';

/**
 * "address": every attempt from one address; "prefix": attempts at one key prefix from one
 * address (subject `<prefix>@<address>`), so hammering a key's public prefix locks out the
 * hammering address, never the key's holder elsewhere.
 */
export type AttemptScope = 'prefix' | 'address';

export interface AttemptLimit {
  scope: AttemptScope;
  subject: string;
  /** Failed attempts allowed within the window. */
  limit: number;
}

export interface AttemptCount {
  scope: AttemptScope;
  subject: string;
  failures: number;
  /** The oldest failure inside the window: the window frees a slot when it ages out. */
  oldest: Date | undefined;
}

export type Reservation =
  /** One attempt recorded against every subject: a failure, unless released. */
  | { reserved: string[] }
  /** A subject already at its limit; nothing was recorded. */
  | { refused: AttemptCount };

@Injectable()
export class TokenAttemptsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Atomically checks every subject against its limit and, when none is reached, records one
   * attempt against each. Concurrent attempts at a subject take turns (a transaction-scoped advisory
   * lock per subject, taken in one order), so no more attempts than the limit are ever let through,
   * however many arrive at once. Its own short transaction, outside the call's unit of work: this is
   * bookkeeping of the exchange, not a change the call makes (nor audits).
   */
  reserve(limits: AttemptLimit[], since: Date, at: Date): Promise<Reservation> {
    const ordered = [...limits].sort((a, b) =>
      `${a.scope}:${a.subject}`.localeCompare(`${b.scope}:${b.subject}`),
    );
    return this.uow.manager().transaction(async (manager): Promise<Reservation> => {
      for (const { scope, subject } of ordered)
        await manager.query(
          `SELECT pg_advisory_xact_lock(hashtext('token-attempts'), hashtext($1))`,
          [`${scope}:${subject}`],
        );
      for (const { scope, subject, limit } of ordered) {
        const rows: { failures: string; oldest: Date | null }[] = await manager.query(
          `SELECT count(*) AS failures, min(failed_at) AS oldest FROM token_attempt_failure
            WHERE scope = $1 AND subject = $2 AND failed_at > $3`,
          [scope, subject, since],
        );
        const failures = Number(rows[0]?.failures ?? 0);
        if (failures >= limit)
          return {
            refused: { scope, subject, failures, oldest: rows[0]?.oldest ?? undefined },
          };
      }
      const inserted = await manager
        .getRepository(TokenAttemptFailureEntity)
        .insert(ordered.map(({ scope, subject }) => ({ scope, subject, failedAt: at })));
      return { reserved: inserted.identifiers.map((row) => String(row.id)) };
    });
  }

  /** Takes back attempts that turned out not to be failures (a genuine key). */
  async release(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.uow
      .manager()
      .getRepository(TokenAttemptFailureEntity)
      .delete({ id: In(ids) });
  }

  async deleteOlderThan(before: Date): Promise<void> {
    await this.uow
      .manager()
      .query('DELETE FROM token_attempt_failure WHERE failed_at <= $1', [before]);
  }
}
