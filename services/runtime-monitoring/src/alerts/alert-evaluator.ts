import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import {
  AlertRaised,
  AlertResolved,
  eventOf,
  type AlertEventData,
  type MonitoringDomainName,
} from '@cinode/contracts';
import { uuidv7 } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type { RuntimeMonitoringConfig } from '../config';
import type { FeedEntry } from '../feed/feed-entry';
import { FeedRepository } from '../feed/feed.repository';
import { Periodic } from '@cinode/common';
import { SeriesRepository } from '../series/series.repository';
import { ruleOfInput, type AlertRule } from './alert-rule-input';
import type { AlertEntity } from './alert.entity';
import { AlertsRepository } from './alerts.repository';
import { evaluateRule, windowStart } from './rule-evaluation';

const EVALUATION_LOCK = 'monitoring.alerts';

function alertData(alert: AlertEntity, version: number): AlertEventData {
  return {
    alertId: alert.alertId,
    ruleId: alert.ruleId,
    version,
    domain: alert.domain as MonitoringDomainName,
    metric: alert.metric,
    regionCode: alert.regionCode,
    accelerator: alert.accelerator,
    service: alert.service,
    kindLabel: alert.kindLabel,
    severity: alert.severity as AlertEventData['severity'],
    value: alert.value,
    threshold: alert.threshold,
    raisedAt: alert.raisedAt.toISOString(),
    resolvedAt: alert.resolvedAt ? alert.resolvedAt.toISOString() : null,
  };
}

function dimensionsText(alert: AlertEntity): string {
  const parts = [
    alert.regionCode && `region ${alert.regionCode}`,
    alert.accelerator && `accelerator ${alert.accelerator}`,
    alert.service && `service ${alert.service}`,
    alert.kindLabel && alert.kindLabel,
  ].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/**
 * Evaluates the alert rules over the one-minute series (one replica at a time): a series that
 * breaches a rule for its minutes raises an alert, one that no longer does resolves it. Each change
 * is an event through the outbox (MONITORING stream) and an entry of the feed, in one transaction.
 */
@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AlertEvaluator.name);
  private readonly task: Periodic;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly alerts: AlertsRepository,
    private readonly series: SeriesRepository,
    private readonly feed: FeedRepository,
    @InjectConfig() private readonly config: RuntimeMonitoringConfig,
  ) {
    this.task = new Periodic(
      'alert evaluation',
      config.ALERT_EVAL_INTERVAL_MS,
      () => this.evaluate(),
      this.logger,
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    const now = new Date();
    await this.uow.run(async (tx) => {
      for (const input of this.config.ALERT_RULES_JSON)
        await this.alerts.insertRuleIfAbsent(tx, ruleOfInput(input, now));
    });
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One evaluation of every rule; answers the alerts raised and resolved. */
  async evaluate(now: number = Date.now()): Promise<{ raised: number; resolved: number }> {
    return this.uow.run(async (tx) => {
      const counts = { raised: 0, resolved: 0 };
      if (!(await this.series.tryLock(tx, EVALUATION_LOCK))) return counts;
      const feed: FeedEntry[] = [];
      for (const rule of await this.alerts.rules(tx)) {
        const points = await this.series.recentMinutes(rule.metric, windowStart(rule, now), rule);
        const verdicts = new Map(evaluateRule(rule, points, now).map((v) => [v.seriesKey, v]));
        const firing = new Map(
          (await this.alerts.firing(tx, rule.ruleId)).map((a) => [a.seriesKey, a]),
        );
        for (const verdict of verdicts.values()) {
          if (!verdict.breaching || firing.has(verdict.seriesKey)) continue;
          const alert: AlertEntity = {
            alertId: uuidv7(),
            ruleId: rule.ruleId,
            seriesKey: verdict.seriesKey,
            domain: rule.domain,
            metric: rule.metric,
            regionCode: verdict.regionCode,
            accelerator: verdict.accelerator,
            service: verdict.service,
            kindLabel: verdict.kindLabel,
            severity: rule.severity,
            value: verdict.value,
            threshold: rule.threshold,
            raisedAt: new Date(now),
            resolvedAt: null,
          };
          await this.alerts.insertAlert(tx, alert);
          feed.push(await this.announce(tx, alert, rule, 'raised'));
          counts.raised += 1;
        }
        for (const alert of firing.values()) {
          const verdict = verdicts.get(alert.seriesKey);
          if (verdict?.breaching) continue;
          feed.push(await this.close(tx, alert, rule, new Date(now), verdict?.value ?? 0));
          counts.resolved += 1;
        }
      }
      await this.feed.append(tx, feed);
      return counts;
    });
  }

  /** Resolves a firing alert (its series recovered, or its rule was deleted). */
  async close(
    tx: Tx,
    alert: AlertEntity,
    rule: Pick<AlertRule, 'comparison' | 'threshold'> | undefined,
    at: Date,
    value: number,
  ): Promise<FeedEntry> {
    await this.alerts.resolve(tx, alert.alertId, at, value);
    return this.announce(tx, { ...alert, resolvedAt: at, value }, rule, 'resolved');
  }

  private async announce(
    tx: Tx,
    alert: AlertEntity,
    rule: Pick<AlertRule, 'comparison' | 'threshold'> | undefined,
    what: 'raised' | 'resolved',
  ): Promise<FeedEntry> {
    const contract = what === 'raised' ? AlertRaised : AlertResolved;
    await tx.emit(eventOf(contract, alertData(alert, what === 'raised' ? 1 : 2)));
    const condition = rule ? ` ${rule.comparison} ${rule.threshold}` : '';
    return {
      eventId: uuidv7(),
      domain: alert.domain as MonitoringDomainName,
      type: contract.type,
      regionCode: alert.regionCode === '*' ? '' : alert.regionCode,
      objectId: alert.alertId,
      summary: `alert ${alert.ruleId} ${what}: ${alert.metric}${dimensionsText(alert)} = ${alert.value}${condition}`,
      occurredAt: what === 'raised' ? alert.raisedAt : (alert.resolvedAt ?? alert.raisedAt),
    };
  }
}
