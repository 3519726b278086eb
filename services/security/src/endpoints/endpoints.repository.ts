import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { EndpointEntity, type StoredPostureResult } from './endpoint.entity';

/** Every query of endpoints. */
@Injectable()
export class EndpointsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** How many endpoints the participant has, under a lock of its registrations (to commit). */
  async countOf(tx: Tx, participantId: string): Promise<number> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 40412))`, [
      participantId,
    ]);
    const [{ count }] = await tx.manager.query<Array<{ count: number }>>(
      `SELECT count(*)::int AS count FROM endpoint WHERE participant_id = $1`,
      [participantId],
    );
    return count;
  }

  async findByAddress(
    tx: Tx,
    participantId: string,
    address: string,
  ): Promise<EndpointEntity | undefined> {
    return (
      (await tx.manager.getRepository(EndpointEntity).findOneBy({ participantId, address })) ??
      undefined
    );
  }

  async find(endpointId: string, tx?: Tx): Promise<EndpointEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(EndpointEntity).findOneBy({ endpointId })) ??
      undefined
    );
  }

  /** The endpoint, locked to the end of the transaction (a check and a removal do not cross). */
  async lock(tx: Tx, endpointId: string): Promise<EndpointEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(EndpointEntity)
        .createQueryBuilder('e')
        .setLock('pessimistic_write')
        .where('e.endpoint_id = :endpointId', { endpointId })
        .getOne()) ?? undefined
    );
  }

  async insert(tx: Tx, endpoint: EndpointEntity): Promise<void> {
    await tx.manager.getRepository(EndpointEntity).insert(endpoint);
  }

  async delete(tx: Tx, endpointId: string): Promise<boolean> {
    const result = await tx.manager.getRepository(EndpointEntity).delete({ endpointId });
    return (result.affected ?? 0) > 0;
  }

  async recordResult(tx: Tx, endpointId: string, result: StoredPostureResult): Promise<void> {
    await tx.manager.getRepository(EndpointEntity).update({ endpointId }, { lastResult: result });
  }

  /**
   * Takes up to `limit` endpoints due for a scheduled check and moves their next check on by
   * `intervalMs`, so another replica's round skips them (SKIP LOCKED).
   */
  async claimDue(limit: number, intervalMs: number): Promise<EndpointEntity[]> {
    if (limit <= 0) return [];
    const rows = await this.uow.manager().query<unknown[]>(
      `UPDATE endpoint SET next_check_at = now() + make_interval(secs => $2::double precision / 1000)
        WHERE endpoint_id IN (
          SELECT endpoint_id FROM endpoint WHERE next_check_at <= now()
           ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING endpoint_id`,
      [limit, intervalMs],
    );
    // TypeORM answers an UPDATE with [rows, count].
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as Array<{ endpoint_id: string }>;
    if (list.length === 0) return [];
    return this.uow
      .manager()
      .getRepository(EndpointEntity)
      .createQueryBuilder('e')
      .where('e.endpoint_id = ANY(:ids)', { ids: list.map((r) => r.endpoint_id) })
      .getMany();
  }

  async list(
    participantId: string | undefined,
    after: PagePosition | undefined,
    limit: number,
  ): Promise<EndpointEntity[]> {
    const query = this.uow.manager().getRepository(EndpointEntity).createQueryBuilder('e');
    if (participantId !== undefined)
      query.andWhere('e.participant_id = :participantId', { participantId });
    if (after)
      query.andWhere('(e.created_at, e.endpoint_id) > (:afterTime, :afterId)', {
        afterTime: after.after,
        afterId: after.afterId,
      });
    return query
      .orderBy('e.created_at', 'ASC')
      .addOrderBy('e.endpoint_id', 'ASC')
      .limit(limit)
      .getMany();
  }
}
