import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import type { OrderStateName } from '@cinode/contracts';
import { UnitOfWork, type Tx } from '@cinode/database';
import type { SelectQueryBuilder } from 'typeorm';
import { DemandEntity } from './demand.entity';
import { OrderEntity } from './order.entity';

/** Which rows a list returns: a participant's (and a customer's of it), or every one. */
export interface MarketScope {
  participantId?: string;
  customerReference?: string;
}

/** Newest first, one extra row telling whether another page exists. */
function page<T extends { createdAt: Date; id: string }>(
  query: SelectQueryBuilder<T>,
  alias: string,
  limit: number,
  after: PagePosition | undefined,
): Promise<T[]> {
  query
    .orderBy(`${alias}.created_at`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(limit + 1);
  if (after)
    query.andWhere(`(${alias}.created_at, ${alias}.id) < (:after, :afterId)`, {
      after: after.after,
      afterId: after.afterId,
    });
  return query.getMany();
}

@Injectable()
export class MarketRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async findDemand(id: string, tx?: Tx): Promise<DemandEntity | undefined> {
    return (await this.uow.manager(tx).getRepository(DemandEntity).findOneBy({ id })) ?? undefined;
  }

  async lockDemand(tx: Tx, id: string): Promise<DemandEntity | undefined> {
    const row = await tx.manager
      .getRepository(DemandEntity)
      .createQueryBuilder('d')
      .setLock('pessimistic_write')
      .where('d.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async insertDemand(tx: Tx, demand: DemandEntity): Promise<void> {
    await tx.manager.getRepository(DemandEntity).insert(demand);
  }

  async saveDemand(tx: Tx, demand: DemandEntity): Promise<void> {
    await tx.manager.getRepository(DemandEntity).save(demand);
  }

  listDemands(
    scope: MarketScope,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<DemandEntity[]> {
    const query = this.uow.manager().getRepository(DemandEntity).createQueryBuilder('d');
    if (scope.participantId)
      query.andWhere('d.participant_id = :participantId', { participantId: scope.participantId });
    if (scope.customerReference !== undefined)
      query.andWhere('d.customer_reference = :customer', { customer: scope.customerReference });
    return page(query, 'd', limit, after);
  }

  async findOrder(id: string, tx?: Tx): Promise<OrderEntity | undefined> {
    return (await this.uow.manager(tx).getRepository(OrderEntity).findOneBy({ id })) ?? undefined;
  }

  async lockOrder(tx: Tx, id: string): Promise<OrderEntity | undefined> {
    const row = await tx.manager
      .getRepository(OrderEntity)
      .createQueryBuilder('o')
      .setLock('pessimistic_write')
      .where('o.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async insertOrder(tx: Tx, order: OrderEntity): Promise<void> {
    await tx.manager.getRepository(OrderEntity).insert(order);
  }

  async saveOrder(tx: Tx, order: OrderEntity): Promise<void> {
    await tx.manager.getRepository(OrderEntity).save(order);
  }

  listOrders(
    scope: MarketScope & { state?: OrderStateName },
    limit: number,
    after: PagePosition | undefined,
  ): Promise<OrderEntity[]> {
    const query = this.uow.manager().getRepository(OrderEntity).createQueryBuilder('o');
    if (scope.participantId)
      query.andWhere('o.participant_id = :participantId', { participantId: scope.participantId });
    if (scope.customerReference !== undefined)
      query.andWhere('o.customer_reference = :customer', { customer: scope.customerReference });
    if (scope.state) query.andWhere('o.state = :state', { state: scope.state });
    return page(query, 'o', limit, after);
  }

  /** Marks a placement attempt that failed: the recovery pass takes the others first. */
  async touchPlacing(id: string): Promise<void> {
    await this.uow
      .manager()
      .query(
        `UPDATE market_order SET state_changed_at = now() WHERE id = $1 AND state = 'placing'`,
        [id],
      );
  }

  /** Orders left PLACING for longer than `olderThan` (a crash between the hold and its record). */
  unfinishedPlacements(olderThan: Date, limit: number): Promise<OrderEntity[]> {
    return this.uow
      .manager()
      .getRepository(OrderEntity)
      .createQueryBuilder('o')
      .where("o.state = 'placing' AND o.state_changed_at < :olderThan", { olderThan })
      .orderBy('o.state_changed_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /**
   * Ended orders (completed, failed, cancelled, refused) whose line hold was not yet seen released,
   * `limit` of them past `after` (a position in their order):
   * cancelled ones at once (their release waits for the task to stop, which no event of this
   * service's announces), the others once ended before `olderThan` (the allocation event's
   * handler releases them first).
   */
  endedWithLineHeld(
    olderThan: Date,
    limit: number,
    after?: { at: Date; id: string },
  ): Promise<OrderEntity[]> {
    return this.endedOrders(
      "o.state IN ('completed', 'failed', 'cancelled', 'refused') AND o.line_hold_id IS NOT NULL" +
        " AND o.line_released_at IS NULL AND (o.state = 'cancelled' OR o.state_changed_at < :olderThan)",
      olderThan,
      limit,
      after,
    );
  }

  /**
   * Cancelled and refused orders, ended before `olderThan`, whose pool hold was not yet seen given
   * back (`hold_released_at`), in (state_changed_at, id) order, from past a position.
   */
  endedWithHoldHeld(
    olderThan: Date,
    limit: number,
    after?: { at: Date; id: string },
  ): Promise<OrderEntity[]> {
    return this.endedOrders(
      "o.state IN ('cancelled', 'refused') AND o.hold_id IS NOT NULL" +
        ' AND o.hold_released_at IS NULL AND o.state_changed_at < :olderThan',
      olderThan,
      limit,
      after,
    );
  }

  /** Orders matching `where` in (state_changed_at, id) order, from past a position. */
  private endedOrders(
    where: string,
    olderThan: Date,
    limit: number,
    after?: { at: Date; id: string },
  ): Promise<OrderEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(OrderEntity)
      .createQueryBuilder('o')
      .where(where, { olderThan });
    if (after)
      query.andWhere(
        '(o.state_changed_at, o.id) > (CAST(:afterAt AS timestamptz), CAST(:afterId AS uuid))',
        {
          afterAt: after.at,
          afterId: after.id,
        },
      );
    return query
      .orderBy('o.state_changed_at', 'ASC')
      .addOrderBy('o.id', 'ASC')
      .limit(limit)
      .getMany();
  }

  async markHoldReleased(id: string, tx?: Tx): Promise<void> {
    await this.uow
      .manager(tx)
      .query(
        `UPDATE market_order SET hold_released_at = now() WHERE id = $1 AND hold_released_at IS NULL`,
        [id],
      );
  }

  async markLineReleased(id: string, tx?: Tx): Promise<void> {
    await this.uow
      .manager(tx)
      .query(
        `UPDATE market_order SET line_released_at = now() WHERE id = $1 AND line_released_at IS NULL`,
        [id],
      );
  }
}
