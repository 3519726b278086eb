import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { hasRole, type Caller } from '@cinode/auth';
import {
  AttackEventRecorded,
  AttackEventUpdated,
  eventOf,
  type AttackEventData,
  type AttackEventStateName,
  type SecuritySeverity,
} from '@cinode/contracts';
import {
  DomainError,
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PageTokens,
  ResourceExhaustedError,
  uuidv7,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type {
  AttackEventInput,
  ListAttackEventsRequest,
  SubmitAttackEventResult,
  SubmitAttackEventsRequest,
  TransitionAttackEventRequest,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import { ATTACK_STATES, HANDLING, SEVERITIES, SEVERITY_RANK } from '../api/enums';
import type { SecurityConfig } from '../config';
import { ErrorReason } from '../errors';
import { RiskRepository, type SubjectRef } from '../risk/risk.repository';
import { RiskService } from '../risk/risk.service';
import type { AttackEventEntity } from './attack-event.entity';
import { AttackEventsRepository } from './attack-events.repository';

export const MAX_EVENTS_PER_CALL = 500;
const DAY_MS = 86_400_000;
/**
 * Most events one page lists: 200 events of the longest fields stay well inside gRPC's 4 MiB
 * message; a report period's events are read in pages.
 */
export const MAX_ATTACK_PAGE = 200;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ipSchema = z.string().ip();
/** The reporter's event ids: printable, no control characters. */
const EVENT_ID = /^[\x21-\x7e\u00a0-\uffff][\x20-\x7e\u00a0-\uffff]{0,127}$/u;
const POOL_ID = /^[A-Za-z0-9._:/-]{1,64}$/;

/** Where each handling state may go (FALSE_POSITIVE from anything before RESOLVED). */
export const ATTACK_TRANSITIONS: Readonly<
  Record<AttackEventStateName, readonly AttackEventStateName[]>
> = {
  new: ['acknowledged', 'false_positive'],
  acknowledged: ['mitigating', 'resolved', 'false_positive'],
  mitigating: ['resolved', 'false_positive'],
  resolved: [],
  false_positive: [],
};

/** What the reporter may change by sending an event again. */
const MUTABLE = ['ongoing', 'handlingStatus', 'description', 'severity'] as const;
/** What must match when an event id is sent again. */
const IMMUTABLE = [
  'attackerIp',
  'targetIp',
  'attackMethod',
  'attackedAssetType',
  'poolId',
] as const;

/** Who reports, as the node records it. */
export function sourceOf(caller: Caller): string {
  if (hasRole(caller, 'operator')) return `operator:${caller.subject}`.slice(0, 140);
  if (hasRole(caller, 'service')) return `node:${caller.subject}`.slice(0, 140);
  return caller.tenant;
}

export function attackEventDataOf(e: AttackEventEntity): AttackEventData {
  return {
    securityEventId: e.securityEventId,
    version: e.version,
    source: e.source,
    eventId: e.eventId,
    severity: e.severity,
    state: e.state,
    ongoing: e.ongoing,
    attackTime: e.attackTime.toISOString(),
    participantId: e.participantId,
    poolId: e.poolId,
  };
}

@Injectable()
export class AttackEventsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly events: AttackEventsRepository,
    private readonly risks: RiskRepository,
    private readonly risk: RiskService,
    private readonly pageTokens: PageTokens,
    @InjectConfig() private readonly config: SecurityConfig,
  ) {}

  /** Records new events and updates re-sent ones, all or nothing; risk follows in the same commit. */
  async submit(
    caller: Caller,
    request: SubmitAttackEventsRequest,
  ): Promise<SubmitAttackEventResult[]> {
    const source = sourceOf(caller);
    const isProvider = !hasRole(caller, 'operator', 'service');
    const now = new Date();
    const checks = new FieldChecks();
    if (request.events.length === 0) checks.add('events', 'must hold at least one event');
    if (request.events.length > MAX_EVENTS_PER_CALL)
      checks.add('events', `must hold at most ${MAX_EVENTS_PER_CALL} events`);
    if (!source) checks.add('events', 'the caller has no participant to report for');
    checks.throwIfAny();
    const firstIndex = new Map<string, number>();
    const rows: AttackEventEntity[] = request.events.map((input, i) => {
      const row = this.checkInput(checks, `events[${i}]`, input, now);
      const seen = firstIndex.get(row.eventId);
      if (seen !== undefined) checks.add(`events[${i}].event_id`, `repeats events[${seen}]`);
      else firstIndex.set(row.eventId, i);
      return { ...row, source, participantId: isProvider ? caller.tenant : '' };
    });
    checks.throwIfAny();

    return this.uow.run(async (tx) => {
      // A named pool must be known; a provider may name only its own.
      for (const [i, row] of rows.entries()) {
        if (!row.poolId) continue;
        const provider = await this.risks.providerOf(tx, row.poolId);
        if (!provider || (isProvider && provider !== caller.tenant))
          checks.add(
            `events[${i}].pool_id`,
            isProvider ? 'is not one of your pools' : 'is not a pool of this node',
          );
        else if (!isProvider) row.participantId = provider;
      }
      checks.throwIfAny();
      const recent = await this.events.recentOfSource(tx, source, DAY_MS);
      const limit = this.config.MAX_ATTACK_EVENTS_PER_SOURCE_PER_DAY;
      const inserted = await this.events.insertNew(tx, rows);
      if (recent + inserted.size > limit)
        throw new ResourceExhaustedError(
          ErrorReason.ATTACK_EVENT_QUOTA_EXCEEDED,
          `a reporter may send ${limit} new attack events in 24 hours; ${recent} were sent already`,
          { retryAfterSeconds: 3600 },
        );
      const existing = new Map(
        (
          await this.events.lockBySource(
            tx,
            source,
            rows.filter((r) => !inserted.has(r.eventId)).map((r) => r.eventId),
          )
        ).map((e) => [e.eventId, e]),
      );
      const results: SubmitAttackEventResult[] = [];
      const touched: SubjectRef[] = [];
      const messages = [];
      for (const row of rows) {
        if (inserted.has(row.eventId)) {
          messages.push(eventOf(AttackEventRecorded, attackEventDataOf(row)));
          results.push({
            eventId: row.eventId,
            securityEventId: row.securityEventId,
            created: true,
            updated: false,
          });
          touched.push(...subjectsOf(row));
          continue;
        }
        const before = existing.get(row.eventId);
        if (!before) throw new Error(`attack event ${row.eventId} neither inserted nor found`);
        const differs = IMMUTABLE.filter((k) => before[k] !== row[k]);
        if (before.attackTime.getTime() !== row.attackTime.getTime())
          differs.unshift('attackTime' as never);
        if (differs.length > 0)
          throw new FailedPreconditionError(
            ErrorReason.EVENT_ID_CONFLICT,
            `event ${row.eventId} was reported before with a different ${differs.join(', ')}`,
            { metadata: { event_id: row.eventId.slice(0, 128) } },
          );
        const changed = MUTABLE.some((k) => before[k] !== row[k]);
        if (!changed) {
          results.push({
            eventId: row.eventId,
            securityEventId: before.securityEventId,
            created: false,
            updated: false,
          });
          continue;
        }
        const next: AttackEventEntity = {
          ...before,
          ongoing: row.ongoing,
          handlingStatus: row.handlingStatus,
          description: row.description,
          severity: row.severity,
          version: before.version + 1,
          updatedAt: now,
        };
        await this.events.save(tx, next);
        messages.push(eventOf(AttackEventUpdated, attackEventDataOf(next)));
        results.push({
          eventId: row.eventId,
          securityEventId: before.securityEventId,
          created: false,
          updated: true,
        });
        touched.push(...subjectsOf(next));
      }
      if (messages.length > 0) await tx.emit(...messages);
      await this.risk.reassess(tx, touched, now);
      if (rows.length === 1) tx.objectId = results[0].securityEventId;
      return results;
    });
  }

  private checkInput(
    checks: FieldChecks,
    path: string,
    input: AttackEventInput,
    now: Date,
  ): AttackEventEntity {
    checks
      .text(`${path}.event_id`, input.eventId, {
        max: 128,
        pattern: EVENT_ID,
        patternHint: 'must be printable characters without leading space',
      })
      .timestamp(`${path}.attack_time`, input.attackTime)
      .text(`${path}.attack_method`, input.attackMethod.trim(), { max: 200 })
      .text(`${path}.attacked_asset_type`, input.attackedAssetType.trim(), { max: 200 })
      .text(`${path}.description`, input.description, { required: false, max: 4000 })
      .text(`${path}.pool_id`, input.poolId, {
        required: false,
        max: 64,
        pattern: POOL_ID,
        patternHint: 'must be a pool identifier',
      });
    // The national schema counts UTF-16 units (zod), FieldChecks counts characters: a text the
    // node accepts must fit the report it goes into.
    for (const [field, value, max] of [
      ['event_id', input.eventId, 128],
      ['attack_method', input.attackMethod.trim(), 200],
      ['attacked_asset_type', input.attackedAssetType.trim(), 200],
      ['description', input.description, 4000],
    ] as const)
      if (value.length > max)
        checks.add(`${path}.${field}`, `must be at most ${max} UTF-16 code units`);
    for (const [field, value] of [
      ['attacker_ip', input.attackerIp],
      ['target_ip', input.targetIp],
    ] as const)
      if (value.length > 45 || !ipSchema.safeParse(value).success)
        checks.add(`${path}.${field}`, 'must be an IPv4 or IPv6 address');
    const attackTime = input.attackTime ? fromTimestamp(input.attackTime) : new Date(0);
    if (input.attackTime && attackTime.getTime() > now.getTime() + this.config.ATTACK_CLOCK_SKEW_MS)
      checks.add(
        `${path}.attack_time`,
        `must not be later than now (${now.toISOString()}) plus ${this.config.ATTACK_CLOCK_SKEW_MS / 1000} s`,
      );
    const handling = HANDLING.name(input.handlingStatus);
    if (!handling)
      checks.add(`${path}.handling_status`, 'must be DETECTED, HANDLING, MITIGATED or RESOLVED');
    const severity = SEVERITIES.name(input.severity);
    if (!severity) checks.add(`${path}.severity`, 'must be LOW, MEDIUM, HIGH or CRITICAL');
    return {
      securityEventId: uuidv7(),
      source: '',
      eventId: input.eventId,
      attackTime,
      attackerIp: input.attackerIp.toLowerCase(),
      targetIp: input.targetIp.toLowerCase(),
      attackMethod: input.attackMethod.trim(),
      attackedAssetType: input.attackedAssetType.trim(),
      ongoing: input.ongoing,
      description: input.description,
      handlingStatus: handling ?? 'detected',
      severity: severity ?? 'low',
      poolId: input.poolId,
      participantId: '',
      state: 'new',
      version: 1,
      note: '',
      recordedAt: now,
      updatedAt: now,
    };
  }

  async list(
    caller: Caller,
    request: ListAttackEventsRequest,
  ): Promise<{ events: AttackEventEntity[]; nextPageToken: string }> {
    const checks = new FieldChecks();
    const state = request.state ? ATTACK_STATES.name(request.state) : undefined;
    if (request.state && !state) checks.add('state', 'is not a known state');
    const minSeverity = request.minSeverity ? SEVERITIES.name(request.minSeverity) : undefined;
    if (request.minSeverity && !minSeverity) checks.add('min_severity', 'is not a known severity');
    for (const [field, value] of [
      ['attack_time_from', request.attackTimeFrom],
      ['attack_time_to', request.attackTimeTo],
      ['updated_from', request.updatedFrom],
    ] as const)
      checks.timestamp(field, value, { required: false });
    checks.text('source', request.source, { required: false, max: 140 });
    if (request.pageSize < 0 || request.pageSize > MAX_ATTACK_PAGE)
      checks.add('page_size', `must be between 0 and ${MAX_ATTACK_PAGE}`);
    checks.throwIfAny();
    const isParticipant = !hasRole(caller, 'operator', 'regulator', 'service');
    const filter = {
      state,
      severities: minSeverity
        ? (Object.keys(SEVERITY_RANK) as SecuritySeverity[]).filter(
            (s) => SEVERITY_RANK[s] >= SEVERITY_RANK[minSeverity],
          )
        : undefined,
      source: isParticipant ? caller.tenant : request.source || undefined,
      attackTimeFrom: request.attackTimeFrom ? fromTimestamp(request.attackTimeFrom) : undefined,
      attackTimeTo: request.attackTimeTo ? fromTimestamp(request.attackTimeTo) : undefined,
      updatedFrom: request.updatedFrom ? fromTimestamp(request.updatedFrom) : undefined,
      excludeFalsePositives: request.excludeFalsePositives,
    };
    const filterKey = `attack-events:${JSON.stringify(filter)}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const limit = request.pageSize === 0 ? 50 : request.pageSize;
    const rows = await this.events.list(filter, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextPageToken =
      rows.length > limit && last
        ? this.pageTokens.encode(
            { after: last.attackTime.toISOString(), afterId: last.securityEventId },
            filterKey,
          )
        : '';
    return { events: page, nextPageToken };
  }

  async transition(
    caller: Caller,
    request: TransitionAttackEventRequest,
  ): Promise<AttackEventEntity> {
    const checks = new FieldChecks()
      .text('security_event_id', request.securityEventId, {
        max: 36,
        pattern: UUID,
        patternHint: 'must be a lower-case UUID',
      })
      .text('note', request.note, { required: false, max: 1000 });
    const target = ATTACK_STATES.name(request.targetState);
    if (!target || target === 'new')
      checks.add('target_state', 'must be ACKNOWLEDGED, MITIGATING, RESOLVED or FALSE_POSITIVE');
    if (!Number.isSafeInteger(request.expectedVersion) || request.expectedVersion < 0)
      checks.add('expected_version', 'must be a whole number, 0 or more');
    checks.throwIfAny();
    return this.uow.run(async (tx) => {
      const event = await this.events.lock(tx, request.securityEventId);
      if (!event)
        throw new NotFoundError(
          ErrorReason.ATTACK_EVENT_NOT_FOUND,
          `attack event ${request.securityEventId} does not exist`,
        );
      if (request.expectedVersion !== 0 && request.expectedVersion !== event.version)
        throw new DomainError(
          'ABORTED',
          ErrorReason.VERSION_MISMATCH,
          `attack event is at version ${event.version}, not ${request.expectedVersion}; read it again`,
          { metadata: { current_version: String(event.version) } },
        );
      if (!ATTACK_TRANSITIONS[event.state].includes(target!))
        throw new FailedPreconditionError(
          ErrorReason.INVALID_TRANSITION,
          `an attack event in state ${event.state} cannot become ${target}`,
          { metadata: { current_state: event.state } },
        );
      const next: AttackEventEntity = {
        ...event,
        state: target!,
        note: request.note || `${target} by ${caller.subject}`.slice(0, 1000),
        version: event.version + 1,
        updatedAt: new Date(),
      };
      await this.events.save(tx, next);
      await tx.emit(eventOf(AttackEventUpdated, attackEventDataOf(next)));
      // Only a false positive changes risk (it stops counting); handling does not.
      if (target === 'false_positive') await this.risk.reassess(tx, subjectsOf(next));
      return next;
    });
  }
}

function subjectsOf(event: AttackEventEntity): SubjectRef[] {
  const subjects: SubjectRef[] = [];
  if (event.participantId) subjects.push({ kind: 'participant', id: event.participantId });
  if (event.poolId) subjects.push({ kind: 'pool', id: event.poolId });
  return subjects;
}
