import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import type { AlertRule } from './alert-rule-input';
import { AlertEntity, AlertRuleEntity } from './alert.entity';

/** Every query of the alert rules and alerts. */
@Injectable()
export class AlertsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async rules(tx?: Tx): Promise<AlertRule[]> {
    const rows = await this.uow
      .manager(tx)
      .getRepository(AlertRuleEntity)
      .find({ order: { ruleId: 'ASC' } });
    return rows.map((r) => ({ ...r, comparison: r.comparison === 'below' ? 'below' : 'above' }));
  }

  async findRule(tx: Tx, ruleId: string): Promise<AlertRule | undefined> {
    const row = await tx.manager.getRepository(AlertRuleEntity).findOneBy({ ruleId });
    return row ? { ...row, comparison: row.comparison === 'below' ? 'below' : 'above' } : undefined;
  }

  async saveRule(tx: Tx, rule: AlertRule): Promise<void> {
    await tx.manager.getRepository(AlertRuleEntity).upsert(rule, ['ruleId']);
  }

  /** Inserts the rule unless one of its id exists; true when inserted. */
  async insertRuleIfAbsent(tx: Tx, rule: AlertRule): Promise<boolean> {
    const result = await tx.manager
      .createQueryBuilder()
      .insert()
      .into(AlertRuleEntity)
      .values(rule)
      .orIgnore()
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  async deleteRule(tx: Tx, ruleId: string): Promise<boolean> {
    const result = await tx.manager.getRepository(AlertRuleEntity).delete({ ruleId });
    return (result.affected ?? 0) > 0;
  }

  async firing(tx: Tx, ruleId: string): Promise<AlertEntity[]> {
    return tx.manager
      .getRepository(AlertEntity)
      .createQueryBuilder('a')
      .where('a.rule_id = :ruleId AND a.resolved_at IS NULL', { ruleId })
      .setLock('pessimistic_write')
      .getMany();
  }

  async insertAlert(tx: Tx, alert: AlertEntity): Promise<void> {
    await tx.manager.getRepository(AlertEntity).insert(alert);
  }

  async resolve(tx: Tx, alertId: string, at: Date, value: number): Promise<void> {
    await tx.manager.getRepository(AlertEntity).update({ alertId }, { resolvedAt: at, value });
  }

  /** One page, newest first. */
  list(
    firingOnly: boolean,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<AlertEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(AlertEntity)
      .createQueryBuilder('a')
      .orderBy('a.raised_at', 'DESC')
      .addOrderBy('a.alert_id', 'DESC')
      .limit(limit + 1);
    if (firingOnly) query.andWhere('a.resolved_at IS NULL');
    if (after)
      query.andWhere('(a.raised_at, a.alert_id) < (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }

  async raisedBetween(start: Date, end: Date): Promise<number> {
    return this.uow
      .manager()
      .getRepository(AlertEntity)
      .createQueryBuilder('a')
      .where('a.raised_at >= :start AND a.raised_at < :end', { start, end })
      .getCount();
  }
}
