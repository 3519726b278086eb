import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@cinode/database';
import { TokenAttemptFailureEntity } from './token-attempt-failure.entity';

export type AttemptScope = 'prefix' | 'address';

export interface AttemptCount {
  scope: AttemptScope;
  subject: string;
  failures: number;
  /** The oldest failure inside the window: the window frees a slot when it ages out. */
  oldest: Date | undefined;
}

@Injectable()
export class TokenAttemptsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async count(scope: AttemptScope, subject: string, since: Date): Promise<AttemptCount> {
    const rows: { failures: string; oldest: Date | null }[] = await this.uow.manager().query(
      `SELECT count(*) AS failures, min(failed_at) AS oldest FROM token_attempt_failure
        WHERE scope = $1 AND subject = $2 AND failed_at > $3`,
      [scope, subject, since],
    );
    const row = rows[0];
    return {
      scope,
      subject,
      failures: Number(row?.failures ?? 0),
      oldest: row?.oldest ?? undefined,
    };
  }

  async record(attempts: { scope: AttemptScope; subject: string }[], at: Date): Promise<void> {
    if (attempts.length === 0) return;
    await this.uow
      .manager()
      .getRepository(TokenAttemptFailureEntity)
      .insert(attempts.map((a) => ({ ...a, failedAt: at })));
  }

  async deleteOlderThan(before: Date): Promise<void> {
    await this.uow
      .manager()
      .query('DELETE FROM token_attempt_failure WHERE failed_at <= $1', [before]);
  }
}
