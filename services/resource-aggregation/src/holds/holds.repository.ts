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

  /** Pools with active holds past their expiry (at most `limit`). */
  async poolsWithExpired(limit: number): Promise<string[]> {
    const rows = await this.uow
      .manager()
      .query<
        Array<{ pool_id: string }>
      >(`SELECT DISTINCT pool_id FROM hold WHERE state = 'active' AND expires_at <= now() LIMIT $1`, [limit]);
    return rows.map((r) => r.pool_id).sort();
  }

  /** Pools with holds stopping for at least `graceSeconds` (at most `limit`). */
  async poolsWithStopping(graceSeconds: number, limit: number): Promise<string[]> {
    const rows = await this.uow.manager().query<Array<{ pool_id: string }>>(
      `SELECT DISTINCT pool_id FROM hold
       WHERE state = 'stopping' AND state_changed_at <= now() - make_interval(secs => $1)
       LIMIT $2`,
      [graceSeconds, limit],
    );
    return rows.map((r) => r.pool_id).sort();
  }

  /** Releases the holds of a locked pool stopping for at least `graceSeconds`; returns them. */
  async releaseStopping(tx: Tx, poolId: string, graceSeconds: number): Promise<HoldEntity[]> {
    const rows = affectedRows<{ hold_id: string; resources: HeldData }>(
      await tx.manager.query(
        `UPDATE hold SET state = 'released', state_changed_at = now()
         WHERE pool_id = $1 AND state = 'stopping'
           AND state_changed_at <= now() - make_interval(secs => $2)
         RETURNING hold_id, resources`,
        [poolId, graceSeconds],
      ),
    );
    return rows.map((r) =>
      Object.assign(new HoldEntity(), { holdId: r.hold_id, resources: r.resources }),
    );
  }

  /** Expires the active holds of a locked pool that are past their time; returns them. */
  async expire(tx: Tx, poolId: string): Promise<HoldEntity[]> {
    const rows = affectedRows<{ hold_id: string; resources: HeldData }>(
      await tx.manager.query(
        `UPDATE hold SET state = 'expired', state_changed_at = now()
         WHERE pool_id = $1 AND state = 'active' AND expires_at <= now()
         RETURNING hold_id, resources`,
        [poolId],
      ),
    );
    return rows.map((r) =>
      Object.assign(new HoldEntity(), { holdId: r.hold_id, resources: r.resources }),
    );
  }
}
