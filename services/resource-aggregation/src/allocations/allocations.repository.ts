import { Injectable } from '@nestjs/common';
import type { TaskStateName } from '@cinode/contracts';
import { UnitOfWork, affectedRows, type Tx } from '@cinode/database';
import { AllocationEntity } from './allocation.entity';

export interface AllocationFilter {
  providerParticipantId?: string;
  poolId?: string;
  state?: TaskStateName;
  /** Only allocations whose latest change is after this sequence. */
  afterSequence: number;
}

/** What is written; the sequence is the database's. */
export type AllocationWrite = Omit<AllocationEntity, 'sequence'>;

@Injectable()
export class AllocationsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async findById(allocationId: string, tx?: Tx): Promise<AllocationEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(AllocationEntity).findOneBy({ allocationId })) ??
      undefined
    );
  }

  /** The allocation, locked (take its pool's and hold's locks first: pools, holds, allocations). */
  async lock(tx: Tx, allocationId: string): Promise<AllocationEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(AllocationEntity)
        .createQueryBuilder('a')
        .setLock('pessimistic_write')
        .where('a.allocation_id = :allocationId', { allocationId })
        .getOne()) ?? undefined
    );
  }

  /**
   * Inserts or updates an allocation with the next change sequence; returns the sequence. The
   * sequence is drawn under one transaction-level lock, held to commit: allocation changes commit
   * in the order of their sequences, so a reader that has seen sequence n has seen every change
   * below it that will ever commit. Call it last in the transaction (allocations change at the
   * pace of orders, so one lock for them all costs nothing worth measuring).
   */
  async write(tx: Tx, allocation: AllocationWrite, create: boolean): Promise<number> {
    await tx.manager.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('cinode.resource.allocation.sequence', 0))`,
    );
    const values = [
      allocation.allocationId,
      allocation.poolId,
      allocation.providerParticipantId,
      allocation.orderReference,
      JSON.stringify(allocation.resources),
      allocation.state,
      allocation.detail,
      allocation.version,
      allocation.createdAt,
      allocation.stateChangedAt,
    ];
    const result: unknown = await tx.manager.query(
      create
        ? `INSERT INTO allocation (allocation_id, pool_id, provider_participant_id, order_reference,
             resources, state, detail, version, created_at, state_changed_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)
           RETURNING sequence`
        : `UPDATE allocation SET pool_id = $2, provider_participant_id = $3, order_reference = $4,
             resources = $5::jsonb, state = $6, detail = $7, version = $8, created_at = $9,
             state_changed_at = $10,
             sequence = nextval(pg_get_serial_sequence('allocation', 'sequence'))
           WHERE allocation_id = $1
           RETURNING sequence`,
      values,
    );
    // An INSERT answers its rows; an UPDATE, its rows and their count.
    const [row] = create
      ? (result as Array<{ sequence: string }>)
      : affectedRows<{ sequence: string }>(result);
    if (!row) throw new Error(`allocation ${allocation.allocationId} was not written`);
    return Number(row.sequence);
  }

  /**
   * Allocations still pending `seconds` after they were created, by the database's clock, on
   * pools that have stopped reporting (stale or offline), oldest first (at most `limit`), with
   * their pools: the ones their providers' agents are gone without starting. A pool still
   * reporting has its agent; a task may go from PENDING to COMPLETED without RUNNING, or take long
   * to start, and is left to it.
   */
  async pendingSince(
    seconds: number,
    limit: number,
  ): Promise<Array<{ allocationId: string; poolId: string }>> {
    const rows = await this.uow.manager().query<Array<{ allocation_id: string; pool_id: string }>>(
      `SELECT a.allocation_id, a.pool_id FROM allocation a
       JOIN pool p ON p.pool_id = a.pool_id
       WHERE a.state = 'pending' AND a.created_at <= now() - make_interval(secs => $1)
         AND p.liveness <> 'online'
       ORDER BY a.created_at, a.allocation_id
       LIMIT $2`,
      [seconds, limit],
    );
    return rows.map((r) => ({ allocationId: r.allocation_id, poolId: r.pool_id }));
  }

  /** One page in change order; fetches one extra row to know whether another page exists. */
  list(filter: AllocationFilter, limit: number): Promise<AllocationEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(AllocationEntity)
      .createQueryBuilder('a')
      .where('a.sequence > :after', { after: filter.afterSequence })
      .orderBy('a.sequence', 'ASC')
      .limit(limit + 1);
    if (filter.providerParticipantId)
      query.andWhere('a.provider_participant_id = :provider', {
        provider: filter.providerParticipantId,
      });
    if (filter.poolId) query.andWhere('a.pool_id = :poolId', { poolId: filter.poolId });
    if (filter.state) query.andWhere('a.state = :state', { state: filter.state });
    return query.getMany();
  }
}
