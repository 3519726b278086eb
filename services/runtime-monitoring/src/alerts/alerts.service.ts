import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  FieldChecks,
  NotFoundError,
  PageTokens,
  fingerprintOf,
  resolvePageSize,
} from '@cinode/common';
import { ALERT_SEVERITIES } from '@cinode/contracts';
import { UnitOfWork, type IdempotencyKey } from '@cinode/database';
import {
  Comparison,
  type DeleteAlertRuleRequest,
  type PutAlertRuleRequest,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import { KNOWN_DOMAINS, domainName } from '../api/monitoring.mapper';
import { checkDimension } from '../api/request-checks';
import { ErrorReason } from '../errors';
import { FeedRepository } from '../feed/feed.repository';
import { METRICS, isMetricName } from '../series/metrics';
import { AlertEvaluator } from './alert-evaluator';
import { RULE_ID_PATTERN, type AlertRule } from './alert-rule-input';
import type { AlertEntity } from './alert.entity';
import { AlertsRepository } from './alerts.repository';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const LIST_FILTER = 'alerts';

/** The alert rules operators change, and the alerts everyone with access reads. */
@Injectable()
export class AlertsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly alerts: AlertsRepository,
    private readonly feed: FeedRepository,
    private readonly evaluator: AlertEvaluator,
    private readonly pageTokens: PageTokens,
  ) {}

  rules(): Promise<AlertRule[]> {
    return this.alerts.rules();
  }

  /** Creates or replaces a rule; a retried request id answers with the rule as it is. */
  async put(caller: Caller, request: PutAlertRuleRequest): Promise<AlertRule> {
    const checks = new FieldChecks();
    checkRequestId(checks, request.requestId);
    const rule = request.rule;
    if (!rule) checks.present('rule', rule);
    const input = rule && ruleOf(checks, rule);
    checks.throwIfAny();
    if (!input) throw new Error('unreachable: the checks require a rule');
    const key: IdempotencyKey | undefined = request.requestId
      ? {
          scope: caller.subject,
          requestId: request.requestId,
          operation: 'PutAlertRule',
          fingerprint: fingerprintOf({ ...input, updatedAt: undefined }),
        }
      : undefined;
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      await this.alerts.saveRule(tx, input);
      return { result: input, objectId: input.ruleId };
    });
    if (outcome.created) return outcome.result;
    const current = (await this.alerts.rules()).find((r) => r.ruleId === outcome.objectId);
    if (!current)
      throw new NotFoundError(
        ErrorReason.ALERT_RULE_NOT_FOUND,
        `rule ${outcome.objectId} was deleted since`,
      );
    return current;
  }

  /** Deletes a rule and resolves the alerts it raised that still fire. */
  async delete(caller: Caller, request: DeleteAlertRuleRequest): Promise<void> {
    const checks = new FieldChecks();
    checkRequestId(checks, request.requestId);
    checks.text('rule_id', request.ruleId, {
      max: 64,
      pattern: RULE_ID_PATTERN,
      patternHint: "must be lower-case letters, digits or '-'",
    });
    checks.throwIfAny();
    const key: IdempotencyKey | undefined = request.requestId
      ? {
          scope: caller.subject,
          requestId: request.requestId,
          operation: 'DeleteAlertRule',
          fingerprint: fingerprintOf({ ruleId: request.ruleId }),
        }
      : undefined;
    await this.uow.idempotentInsert(key, async (tx) => {
      const rule = await this.alerts.findRule(tx, request.ruleId);
      if (!rule || !(await this.alerts.deleteRule(tx, request.ruleId)))
        throw new NotFoundError(
          ErrorReason.ALERT_RULE_NOT_FOUND,
          `rule ${request.ruleId} does not exist`,
        );
      const now = new Date();
      const entries = [];
      for (const alert of await this.alerts.firing(tx, request.ruleId))
        entries.push(await this.evaluator.close(tx, alert, rule, now, alert.value));
      await this.feed.append(tx, entries);
      return { result: undefined, objectId: request.ruleId };
    });
  }

  async list(
    firingOnly: boolean,
    pageSize: number,
    pageToken: string,
  ): Promise<{ alerts: AlertEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(pageSize);
    const filterKey = `${LIST_FILTER}:${firingOnly}`;
    const after = this.pageTokens.decode(pageToken, filterKey);
    const rows = await this.alerts.list(firingOnly, limit, after);
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (a) => ({ after: a.raisedAt.toISOString(), afterId: a.alertId }),
      filterKey,
    );
    return { alerts: page, nextPageToken };
  }
}

function checkRequestId(checks: FieldChecks, requestId: string): void {
  checks.text('request_id', requestId, {
    required: false,
    max: 64,
    pattern: REQUEST_ID_PATTERN,
    patternHint: "must be letters, digits, '.', '_', ':' or '-'",
  });
}

/** The rule of a PutAlertRule request, each bad field named `rule.<field>`. */
function ruleOf(checks: FieldChecks, rule: NonNullable<PutAlertRuleRequest['rule']>): AlertRule {
  checks.text('rule.rule_id', rule.ruleId, {
    max: 64,
    pattern: RULE_ID_PATTERN,
    patternHint: "must be lower-case letters, digits or '-'",
  });
  const domain = domainName(rule.domain);
  if (!domain) checks.enumValue('rule.domain', rule.domain, KNOWN_DOMAINS);
  if (!isMetricName(rule.metric)) checks.add('rule.metric', 'is not a metric monitoring keeps');
  else if (domain && METRICS[rule.metric].domain !== domain)
    checks.add('rule.metric', `is not a metric of domain ${domain}`);
  checkDimension(checks, 'rule.region_code', rule.regionCode, 'region');
  checkDimension(checks, 'rule.accelerator', rule.accelerator, 'name');
  checkDimension(checks, 'rule.service', rule.service, 'name');
  checks.enumValue('rule.comparison', rule.comparison, [
    Comparison.COMPARISON_ABOVE,
    Comparison.COMPARISON_BELOW,
  ]);
  if (!Number.isFinite(rule.threshold)) checks.add('rule.threshold', 'must be a finite number');
  checks.range('rule.for_minutes', rule.forMinutes, 1, 1440);
  if (!Number.isInteger(rule.forMinutes)) checks.add('rule.for_minutes', 'must be a whole number');
  if (!(ALERT_SEVERITIES as readonly string[]).includes(rule.severity))
    checks.add('rule.severity', `must be one of ${ALERT_SEVERITIES.join(', ')}`);
  checks.text('rule.description', rule.description, { required: false, max: 500 });
  return {
    ruleId: rule.ruleId,
    domain: domain ?? '',
    metric: rule.metric,
    regionCode: rule.regionCode,
    accelerator: rule.accelerator,
    service: rule.service,
    comparison: rule.comparison === Comparison.COMPARISON_BELOW ? 'below' : 'above',
    threshold: rule.threshold,
    forMinutes: rule.forMinutes,
    severity: rule.severity,
    description: rule.description,
    updatedAt: new Date(),
  };
}
