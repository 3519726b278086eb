import { Injectable } from '@nestjs/common';
import type { HeldData } from '@cinode/contracts';
import { UnitOfWork, affectedRows, type Tx, databaseNow } from '@cinode/database';
import { PoolEntity } from '../pools/pool.entity';
import { HoldEntity, type HoldStateName } from './hold.entity';

@Injectable()
export class HoldsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** The database's clock: the one reports are stamped with and holds expire by. */
  async databaseNow(tx: Tx): Promise<Date> {
    return databaseNow(tx.manager);
  }

  async insert(tx: Tx, hold: HoldEntity): Promise<void> {
    await tx.manager.getRepository(HoldEntity).insert(hold);
  }

  async findById(holdId: string, tx?: Tx): Promise<HoldEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(HoldEntity).findOneBy({ holdId })) ?? undefined
    );
  }

  /** The hold, locked (take its pool's lock first: pools before holds, everywhere). */
  async lock(tx: Tx, holdId: string): Promise<HoldEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(HoldEntity)
        .createQueryBuilder('h')
        .setLock('pessimistic_write')
        .where('h.hold_id = :holdId', { holdId })
        .getOne()) ?? undefined
    );
  }

  async setState(tx: Tx, holdId: string, state: HoldStateName, at: Date): Promise<void> {
    await tx.manager.getRepository(HoldEntity).update({ holdId }, { state, stateChangedAt: at });
  }

  /** A locked pool's held capacity and version, written back after a hold changed it. */
  async setHeld(tx: Tx, pool: PoolEntity): Promise<void> {
    await tx.manager
      .getRepository(PoolEntity)
      .update({ poolId: pool.poolId }, { held: pool.held, version: pool.version });
  }

  /** Pools with holds `due` has run out (at most `limit`). */
  async poolsWithDue(due: DueHolds, limit: number): Promise<string[]> {
    const { where, params } = dueClause(due, 1);
    const rows = await this.uow
      .manager()
      .query<
        Array<{ pool_id: string }>
      >(`SELECT DISTINCT pool_id FROM hold WHERE ${where} LIMIT $${params.length + 1}`, [...params, limit]);
    return rows.map((r) => r.pool_id).sort();
  }

  /** Ends the holds of a locked pool that `due` has run out (see DueHolds); returns them. */
  async endDue(tx: Tx, poolId: string, due: DueHolds): Promise<HoldEntity[]> {
    const { where, params } = dueClause(due, 2);
    const rows = affectedRows<{ hold_id: string; resources: HeldData }>(
      await tx.manager.query(
        `UPDATE hold SET state = '${due.kind === 'expiry' ? 'expired' : 'released'}',
           state_changed_at = now()
         WHERE pool_id = $1 AND ${where}
         RETURNING hold_id, resources`,
        [poolId, ...params],
      ),
    );
    return rows.map((r) =>
      Object.assign(new HoldEntity(), { holdId: r.hold_id, resources: r.resources }),
    );
  }
}

/**
 * Holds whose time has run out, by the database's clock: active ones past their expiry (they
 * expire), and stopping ones whose provider has not reported the task stopped within the grace
 * (they are released). Either way their capacity goes back to the pool.
 */
export type DueHolds = { kind: 'expiry' } | { kind: 'stop-grace'; graceSeconds: number };

/** The condition on `hold` for `due`, its parameters numbered from `$first`. */
function dueClause(due: DueHolds, first: number): { where: string; params: unknown[] } {
  return due.kind === 'expiry'
    ? { where: `state = 'active' AND expires_at <= now()`, params: [] }
    : {
        where: `state = 'stopping' AND state_changed_at <= now() - make_interval(secs => $${first})`,
        params: [due.graceSeconds],
      };
}
