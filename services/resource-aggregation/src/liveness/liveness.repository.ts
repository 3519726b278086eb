import { Injectable } from '@nestjs/common';
import { affectedRows, type Tx } from '@cinode/database';
import { In } from 'typeorm';
import { PoolEntity, type PoolLiveness } from '../pools/pool.entity';

@Injectable()
export class LivenessRepository {
  /**
   * Moves pools in `from` that have not reported for `afterSeconds` to `to`, by the database's
   * clock (the one reports are stamped with); returns them after the change. Each pool moves once,
   * whichever replica's sweep gets there first: the update re-checks its condition on rows another
   * sweep changed meanwhile.
   */
  async demote(
    tx: Tx,
    from: PoolLiveness,
    to: PoolLiveness,
    afterSeconds: number,
    limit: number,
  ): Promise<PoolEntity[]> {
    const rows = affectedRows<{ pool_id: string }>(
      await tx.manager.query(
        `UPDATE pool SET liveness = $2, version = version + 1, state_changed_at = now()
         WHERE pool_id IN (
           SELECT pool_id FROM pool
           WHERE liveness = $1 AND last_reported_at < now() - make_interval(secs => $3)
           ORDER BY pool_id LIMIT $4 FOR UPDATE SKIP LOCKED
         )
         RETURNING pool_id`,
        [from, to, afterSeconds, limit],
      ),
    );
    if (rows.length === 0) return [];
    return tx.manager.getRepository(PoolEntity).findBy({ poolId: In(rows.map((r) => r.pool_id)) });
  }
}
