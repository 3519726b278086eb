import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx, databaseNow } from '@cinode/database';
import { LineHoldEntity, type LineHoldStateName } from './line-hold.entity';

@Injectable()
export class LineHoldsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** The database's clock: expiry is judged by it, here and in the sweep alike. */
  async databaseNow(tx: Tx): Promise<Date> {
    return databaseNow(tx.manager);
  }

  /** One page in the order holds were made; fetches one extra row to tell whether more follow. */
  list(
    filter: { lineId?: string; state?: LineHoldStateName },
    limit: number,
    after: PagePosition | undefined,
  ): Promise<LineHoldEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(LineHoldEntity)
      .createQueryBuilder('h')
      .orderBy('h.created_at', 'ASC')
      .addOrderBy('h.hold_id', 'ASC')
      .limit(limit + 1);
    if (filter.lineId) query.andWhere('h.line_id = :lineId', { lineId: filter.lineId });
    if (filter.state) query.andWhere('h.state = :state', { state: filter.state });
    if (after)
      query.andWhere('(h.created_at, h.hold_id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }

  async insert(tx: Tx, hold: LineHoldEntity): Promise<void> {
    await tx.manager.getRepository(LineHoldEntity).insert(hold);
  }

  async findById(holdId: string, tx?: Tx): Promise<LineHoldEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(LineHoldEntity).findOneBy({ holdId })) ?? undefined
    );
  }

  /** The hold, its row locked until the transaction ends (its line's row locked first). */
  async lock(tx: Tx, holdId: string): Promise<LineHoldEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(LineHoldEntity)
        .createQueryBuilder('h')
        .setLock('pessimistic_write')
        .where('h.hold_id = :holdId', { holdId })
        .getOne()) ?? undefined
    );
  }

  async setState(
    tx: Tx,
    hold: Pick<LineHoldEntity, 'holdId' | 'state' | 'expiresAt' | 'stateChangedAt' | 'detail'>,
  ): Promise<void> {
    await tx.manager.getRepository(LineHoldEntity).update(
      { holdId: hold.holdId },
      {
        state: hold.state,
        expiresAt: hold.expiresAt,
        stateChangedAt: hold.stateChangedAt,
        detail: hold.detail,
      },
    );
  }

  /** Lines with a held (never confirmed) hold past its time, by the database's clock; up to `limit`. */
  async linesWithExpired(limit: number): Promise<string[]> {
    const rows = await this.uow.manager().query<Array<{ line_id: string }>>(
      `SELECT DISTINCT line_id FROM line_hold
        WHERE state = 'held' AND expires_at <= now()
        LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.line_id);
  }

  /**
   * Expires the line's held holds past their time (its row locked by the caller); returns how many.
   * Confirmed ones last until released: their order may still run.
   */
  async expire(tx: Tx, lineId: string): Promise<number> {
    const expired: LineHoldStateName = 'expired';
    // A SELECT over the UPDATE: TypeORM answers a bare UPDATE with [rows, count].
    const [row] = await tx.manager.query<Array<{ holds: number }>>(
      `WITH expired AS (
         UPDATE line_hold SET state = $2, state_changed_at = now()
          WHERE line_id = $1 AND state = 'held' AND expires_at <= now()
          RETURNING hold_id)
       SELECT count(*)::int AS holds FROM expired`,
      [lineId, expired],
    );
    return row.holds;
  }

  /** What the line's held and confirmed holds reserve, in Mbit/s. */
  async reservedOn(tx: Tx, lineId: string): Promise<number> {
    const [row] = await tx.manager.query<Array<{ mbps: string }>>(
      `SELECT coalesce(sum(bandwidth_mbps), 0)::bigint AS mbps FROM line_hold
        WHERE line_id = $1 AND state IN ('held', 'confirmed')`,
      [lineId],
    );
    return Number(row.mbps);
  }
}
