import { Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  FieldChecks,
  NotFoundError,
  PermissionDeniedError,
  FailedPreconditionError,
  ResourceExhaustedError,
  ValidationError,
  decodePageToken,
  pageOf,
  resolvePageSize,
} from '@cinode/common';
import { hasRole, type Caller } from '@cinode/auth';
import { OutboxPublisher } from '@cinode/events';
import {
  ObjectType,
  type IssueIdentifierRequest,
  type ListIdentifiersRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type { EntityManager } from 'typeorm';
import {
  MAX_SERIAL,
  formatIdentifier,
  isUsableSerial,
  parseIdentifier,
  type ObjectTypeCode,
} from '../format/identifier-format';
import { NodeRegistrationService } from '../node/node-registration.service';
import { isActiveOwnerState, isCertifiedState } from '../participants/participant-state';
import { ParticipantsRepository } from '../participants/participants.repository';
import {
  IDENTIFIER_EVENTS,
  type IdentifierIssuedData,
  type IdentifierFiledData,
  type IdentifierStateChangedData,
} from './identifier-events';
import {
  IdentifierErrorReason,
  assertTransition,
  type IdentifierStateName,
  type SuspensionCauseName,
} from './identifier-lifecycle';
import type { IdentifierTransitionEntity } from './identifier-transition.entity';
import type { IdentifierEntity } from './identifier.entity';
import { objectTypeCodeOf, stateNameOf } from './identifiers.mapper';
import { IdentifiersRepository, type NewTransition } from './identifiers.repository';

const CREDIT_CODE_PATTERN = /^[0-9A-HJ-NPQRTUWXY]{18}$/;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** Roles that act for any owner. `service` covers cinode's own services issuing on a provider's behalf. */
const PRIVILEGED_ROLES = ['operator', 'service'] as const;

export interface IdentifierWithHistory {
  entity: IdentifierEntity;
  transitions: IdentifierTransitionEntity[];
}

/** Millisecond precision, so what is stored and what is filed as allocated_at are the same instant. */
function nowMs(): Date {
  return new Date(Math.floor(Date.now()));
}

function isPrivileged(caller: Caller): boolean {
  return hasRole(caller, ...PRIVILEGED_ROLES);
}

function seesEverything(caller: Caller): boolean {
  return hasRole(caller, 'operator', 'regulator', 'service');
}

function checkReason(reason: string): void {
  new FieldChecks().text('reason', reason.trim(), { max: 500 }).throwIfAny();
}

@Injectable()
export class IdentifiersService {
  constructor(
    private readonly identifiers: IdentifiersRepository,
    private readonly participants: ParticipantsRepository,
    private readonly node: NodeRegistrationService,
    private readonly outbox: OutboxPublisher,
  ) {}

  async issue(
    caller: Caller,
    request: IssueIdentifierRequest,
  ): Promise<{ record: IdentifierWithHistory; created: boolean }> {
    const objectType = objectTypeCodeOf(request.objectType);
    const checks = new FieldChecks()
      .text('request_id', request.requestId, {
        required: false,
        max: 64,
        pattern: REQUEST_ID_PATTERN,
        patternHint: "must be letters, digits, '.', '_', ':' or '-'",
      })
      .text('object_name', request.objectName.trim(), { max: 200 })
      .text('owner_participant_id', request.ownerParticipantId, {
        required: isPrivileged(caller),
        max: 128,
      })
      .text('owner_name', request.ownerName.trim(), { max: 200 })
      .text('owner_credit_code', request.ownerCreditCode, {
        required: false,
        max: 18,
        pattern: CREDIT_CODE_PATTERN,
        patternHint: 'must be an 18-character unified social credit code',
      });
    if (!objectType)
      checks.add(
        'object_type',
        request.objectType === ObjectType.OBJECT_TYPE_UNSPECIFIED
          ? 'is required'
          : `unknown value ${request.objectType}`,
      );
    const attributes = Object.entries(request.attributes);
    if (attributes.length > 32) checks.add('attributes', 'must have at most 32 entries');
    for (const [key, value] of attributes) {
      if (key.length === 0 || key.length > 64)
        checks.add(`attributes[${key}]`, 'key must be 1 to 64 characters');
      if (value.length > 1024)
        checks.add(`attributes[${key}]`, 'value must be at most 1024 characters');
    }
    checks.throwIfAny();
    if (!objectType) throw new Error('object type checked above');

    const owner = request.ownerParticipantId || caller.tenant;
    if (!isPrivileged(caller) && owner !== caller.tenant) {
      throw new PermissionDeniedError(
        IdentifierErrorReason.NOT_OWNER,
        'a participant may issue identifiers only for its own objects',
      );
    }
    const idempotencyKey = request.requestId ? `${caller.subject}:${request.requestId}` : null;
    if (idempotencyKey) {
      const existing = await this.identifiers.findByIdempotencyKey(idempotencyKey);
      if (existing) return this.retried(existing, request, objectType, owner);
    }
    const projection = await this.participants.find(owner);
    if (!isPrivileged(caller) && !isCertifiedState(projection?.state)) {
      throw new FailedPreconditionError(
        IdentifierErrorReason.OWNER_NOT_CERTIFIED,
        `participant ${owner} is not certified and may not issue identifiers`,
        { metadata: { current_state: (projection?.state ?? 'unknown').toUpperCase() } },
      );
    }
    if (projection && !isActiveOwnerState(projection.state)) {
      throw new FailedPreconditionError(
        IdentifierErrorReason.OWNER_NOT_ACTIVE,
        `participant ${owner} is ${projection.state} and may not own new identifiers`,
        { metadata: { current_state: projection.state.toUpperCase() } },
      );
    }
    const node = this.node.require();

    const outcome = await this.identifiers.inTransaction(async (manager) => {
      const serial = await this.allocateSerial(manager, node.identifierPrefix, objectType);
      const now = nowMs();
      const entity: IdentifierEntity = {
        identifier: formatIdentifier(node.identifierPrefix, objectType, serial),
        serial,
        nodeCode: node.nodeCode,
        objectType,
        objectName: request.objectName.trim(),
        ownerParticipantId: owner,
        ownerName: request.ownerName.trim(),
        ownerCreditCode: request.ownerCreditCode,
        attributes: request.attributes,
        state: 'pending_filing',
        suspensionCause: null,
        filingNumber: null,
        filingError: null,
        filedAt: null,
        issuedBy: caller.subject,
        issuedAt: now,
        stateChangedAt: now,
        idempotencyKey,
      };
      if (!(await this.identifiers.insertIfAbsent(manager, entity))) return undefined;
      await this.identifiers.addTransitions(manager, [
        {
          identifier: entity.identifier,
          fromState: null,
          toState: 'reserved',
          actor: caller.subject,
          reason: 'serial allocated',
          changedAt: now,
        },
        {
          identifier: entity.identifier,
          fromState: 'reserved',
          toState: 'pending_filing',
          actor: caller.subject,
          reason: 'issued; queued for filing with the national node',
          changedAt: now,
        },
      ]);
      await this.outbox.enqueue<IdentifierIssuedData>(manager, {
        type: IDENTIFIER_EVENTS.issued,
        data: {
          identifier: entity.identifier,
          nodeCode: entity.nodeCode,
          objectType,
          ownerParticipantId: owner,
        },
      });
      return entity;
    });
    if (outcome) return { record: await this.withHistory(outcome), created: true };
    // A concurrent call with the same request_id committed first: answer with its identifier.
    const winner = idempotencyKey
      ? await this.identifiers.findByIdempotencyKey(idempotencyKey)
      : undefined;
    if (!winner)
      throw new Error('identifier insert conflicted but no identifier holds the request id');
    return this.retried(winner, request, objectType, owner);
  }

  /** A retry answers with the first identifier; the same request_id with other content is refused. */
  private async retried(
    existing: IdentifierEntity,
    request: IssueIdentifierRequest,
    objectType: IdentifierEntity['objectType'],
    owner: string,
  ): Promise<{ record: IdentifierWithHistory; created: boolean }> {
    const same =
      existing.objectType === objectType &&
      existing.objectName === request.objectName.trim() &&
      existing.ownerParticipantId === owner &&
      existing.ownerName === request.ownerName.trim() &&
      existing.ownerCreditCode === request.ownerCreditCode &&
      sameAttributes(existing.attributes, request.attributes);
    if (!same) {
      throw new AlreadyExistsError(
        IdentifierErrorReason.REQUEST_ID_REUSED,
        `request_id ${request.requestId} already issued ${existing.identifier} for different content`,
        { metadata: { identifier: existing.identifier } },
      );
    }
    return { record: await this.withHistory(existing), created: false };
  }

  async resolve(caller: Caller, input: string): Promise<IdentifierWithHistory> {
    const entity = await this.load(input);
    if (
      entity.state !== 'filed' &&
      !seesEverything(caller) &&
      entity.ownerParticipantId !== caller.tenant
    ) {
      throw new PermissionDeniedError(
        IdentifierErrorReason.IDENTIFIER_NOT_VISIBLE,
        `identifier ${entity.identifier} is not filed and belongs to another participant`,
      );
    }
    return this.withHistory(entity);
  }

  async list(
    caller: Caller,
    request: ListIdentifiersRequest,
  ): Promise<{ identifiers: IdentifierEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    const checks = new FieldChecks().text('owner_participant_id', request.ownerParticipantId, {
      required: false,
      max: 128,
    });
    const objectType = objectTypeCodeOf(request.objectType);
    if (request.objectType !== ObjectType.OBJECT_TYPE_UNSPECIFIED && !objectType)
      checks.add('object_type', `unknown value ${request.objectType}`);
    checks.throwIfAny();
    let owner = request.ownerParticipantId || undefined;
    if (!seesEverything(caller)) {
      if (owner && owner !== caller.tenant) {
        throw new PermissionDeniedError(
          IdentifierErrorReason.NOT_OWNER,
          'participants may list only their own identifiers',
        );
      }
      owner = caller.tenant;
    }
    const state = stateNameOf(request.state);
    const filterKey = `identifiers:${owner ?? ''}:${objectType ?? ''}:${state ?? ''}`;
    const after = decodePageToken(request.pageToken, filterKey);
    const afterSerial = after ? Number(after.after) : undefined;
    if (afterSerial !== undefined && !Number.isSafeInteger(afterSerial)) {
      throw new ValidationError([
        { field: 'page_token', description: 'is not a token issued for this query' },
      ]);
    }
    const rows = await this.identifiers.list(
      { ownerParticipantId: owner, objectType, state },
      limit,
      afterSerial,
    );
    const { page, nextPageToken } = pageOf(
      rows,
      limit,
      (i) => ({ after: String(i.serial), afterId: i.identifier }),
      filterKey,
    );
    return { identifiers: page, nextPageToken };
  }

  async suspend(caller: Caller, input: string, reason: string): Promise<IdentifierWithHistory> {
    checkReason(reason);
    return this.change(
      input,
      'suspended',
      caller.subject,
      reason.trim(),
      IDENTIFIER_EVENTS.suspended,
      () => 'operator',
    );
  }

  async reinstate(caller: Caller, input: string, reason: string): Promise<IdentifierWithHistory> {
    checkReason(reason);
    return this.change(
      input,
      'filed',
      caller.subject,
      reason.trim(),
      IDENTIFIER_EVENTS.reinstated,
      async (entity, manager) => {
        // Only a suspension is lifted: pending_filing -> filed belongs to the filing consumer, and an
        // identifier moved there by hand would resolve as filed without ever reaching the national node.
        if (entity.state !== 'suspended') {
          throw new FailedPreconditionError(
            IdentifierErrorReason.INVALID_TRANSITION,
            `identifier ${entity.identifier} is ${entity.state.toUpperCase()}; only a suspended identifier is reinstated`,
            { metadata: { current_state: entity.state.toUpperCase(), requested_state: 'FILED' } },
          );
        }
        const owner = await this.participants.find(entity.ownerParticipantId, manager);
        if (owner && !isActiveOwnerState(owner.state)) {
          throw new FailedPreconditionError(
            IdentifierErrorReason.OWNER_NOT_ACTIVE,
            `the owner ${entity.ownerParticipantId} is ${owner.state}; its identifiers stay suspended`,
            {
              metadata: {
                current_state: entity.state.toUpperCase(),
                owner_state: owner.state.toUpperCase(),
              },
            },
          );
        }
        return null;
      },
    );
  }

  async retire(caller: Caller, input: string, reason: string): Promise<IdentifierWithHistory> {
    checkReason(reason);
    return this.change(
      input,
      'retired',
      caller.subject,
      reason.trim(),
      IDENTIFIER_EVENTS.retired,
      (entity) => {
        if (!isPrivileged(caller) && entity.ownerParticipantId !== caller.tenant) {
          throw new PermissionDeniedError(
            IdentifierErrorReason.NOT_OWNER,
            'only the owner or an operator may retire an identifier',
          );
        }
        if (entity.state === 'pending_filing' && !entity.filingError) {
          throw new FailedPreconditionError(
            IdentifierErrorReason.INVALID_TRANSITION,
            `identifier ${entity.identifier} is PENDING_FILING; it can be retired once filed (or once its filing is rejected)`,
            { metadata: { current_state: 'PENDING_FILING', requested_state: 'RETIRED' } },
          );
        }
        return null;
      },
    );
  }

  /** Filing consumer: the national node accepted the filing. Idempotent. */
  async recordFiled(
    manager: EntityManager,
    entity: IdentifierEntity,
    filingNumber: string,
    filedAt: Date,
    actor: string,
  ): Promise<void> {
    const now = nowMs();
    await this.identifiers.update(manager, entity.identifier, {
      state: 'filed',
      filingNumber,
      filedAt,
      filingError: null,
      stateChangedAt: now,
    });
    await this.identifiers.addTransitions(manager, [
      {
        identifier: entity.identifier,
        fromState: 'pending_filing',
        toState: 'filed',
        actor,
        reason: `filed with the national node as ${filingNumber}`,
        changedAt: now,
      },
    ]);
    await this.outbox.enqueue<IdentifierFiledData>(manager, {
      type: IDENTIFIER_EVENTS.filed,
      data: { identifier: entity.identifier, filingNumber },
    });
    // An owner suspended or revoked while the filing was in flight: its new identifier follows it at once.
    const owner = await this.participants.find(entity.ownerParticipantId, manager);
    if (owner && !isActiveOwnerState(owner.state)) {
      const cause: SuspensionCauseName =
        owner.state === 'revoked' ? 'owner_revoked' : 'owner_suspended';
      await this.applyCascade(
        manager,
        [{ ...entity, state: 'filed' }],
        'suspended',
        cause,
        actor,
        `owner ${owner.state}`,
      );
    }
  }

  /** Filing consumer: the national node rejected the filing for good. The record stays PENDING_FILING, marked. */
  async recordFilingRejected(
    manager: EntityManager,
    identifier: string,
    error: string,
  ): Promise<void> {
    await this.identifiers.update(manager, identifier, { filingError: error.slice(0, 2000) });
  }

  /** Participant consumer: the owner was suspended or revoked; its filed identifiers follow. */
  async suspendForOwner(
    manager: EntityManager,
    ownerParticipantId: string,
    cause: 'owner_suspended' | 'owner_revoked',
    actor: string,
    reason: string,
  ): Promise<number> {
    const filed = await this.identifiers.findOwnedForUpdate(manager, ownerParticipantId, 'filed');
    await this.applyCascade(manager, filed, 'suspended', cause, actor, reason);
    if (cause === 'owner_revoked') {
      // Already suspended because the owner was suspended: now it is for the revocation, which is never lifted.
      const suspended = await this.identifiers.findOwnedForUpdate(
        manager,
        ownerParticipantId,
        'suspended',
        ['owner_suspended'],
      );
      for (const entity of suspended)
        await this.identifiers.update(manager, entity.identifier, {
          suspensionCause: 'owner_revoked',
        });
    }
    return filed.length;
  }

  /** Participant consumer: the owner's suspension was lifted; identifiers it suspended return to FILED. */
  async restoreForOwner(
    manager: EntityManager,
    ownerParticipantId: string,
    actor: string,
    reason: string,
  ): Promise<number> {
    const suspended = await this.identifiers.findOwnedForUpdate(
      manager,
      ownerParticipantId,
      'suspended',
      ['owner_suspended'],
    );
    await this.applyCascade(manager, suspended, 'filed', null, actor, reason);
    return suspended.length;
  }

  private async applyCascade(
    manager: EntityManager,
    entities: IdentifierEntity[],
    to: 'suspended' | 'filed',
    cause: SuspensionCauseName | null,
    actor: string,
    reason: string,
  ): Promise<void> {
    if (entities.length === 0) return;
    const now = nowMs();
    const transitions: NewTransition[] = [];
    for (const entity of entities) {
      assertTransition(entity.identifier, entity.state, to);
      await this.identifiers.update(manager, entity.identifier, {
        state: to,
        suspensionCause: cause,
        stateChangedAt: now,
      });
      transitions.push({
        identifier: entity.identifier,
        fromState: entity.state,
        toState: to,
        actor,
        reason,
        changedAt: now,
      });
    }
    await this.identifiers.addTransitions(manager, transitions);
    await this.outbox.enqueueMany<IdentifierStateChangedData>(
      manager,
      entities.map((entity) => ({
        type: to === 'suspended' ? IDENTIFIER_EVENTS.suspended : IDENTIFIER_EVENTS.reinstated,
        data: {
          identifier: entity.identifier,
          ownerParticipantId: entity.ownerParticipantId,
          state: to,
          suspensionCause: cause,
          reason,
          actor,
        },
      })),
    );
  }

  /**
   * One caller-driven transition under a row lock. `guard` may veto (by throwing) and returns the
   * suspension cause to store.
   */
  private async change(
    input: string,
    to: IdentifierStateName,
    actor: string,
    reason: string,
    eventType: string,
    guard: (
      entity: IdentifierEntity,
      manager: EntityManager,
    ) => SuspensionCauseName | null | Promise<SuspensionCauseName | null>,
  ): Promise<IdentifierWithHistory> {
    const canonical = this.canonical(input);
    const updated = await this.identifiers.inTransaction(async (manager) => {
      const entity = await this.identifiers.findForUpdate(manager, canonical);
      if (!entity) throw this.notFound(canonical);
      const cause = await guard(entity, manager);
      assertTransition(entity.identifier, entity.state, to);
      const now = nowMs();
      await this.identifiers.update(manager, entity.identifier, {
        state: to,
        suspensionCause: to === 'suspended' ? cause : null,
        stateChangedAt: now,
      });
      await this.identifiers.addTransitions(manager, [
        {
          identifier: entity.identifier,
          fromState: entity.state,
          toState: to,
          actor,
          reason,
          changedAt: now,
        },
      ]);
      await this.outbox.enqueue<IdentifierStateChangedData>(manager, {
        type: eventType,
        data: {
          identifier: entity.identifier,
          ownerParticipantId: entity.ownerParticipantId,
          state: to,
          suspensionCause: to === 'suspended' ? cause : null,
          reason,
          actor,
        },
      });
      return entity.identifier;
    });
    return this.withHistory(await this.load(updated));
  }

  /** Draws serials until one has a letter-or-digit check character (about 1 in 37 is skipped). */
  private async allocateSerial(
    manager: EntityManager,
    prefix: string,
    objectType: ObjectTypeCode,
  ): Promise<number> {
    for (;;) {
      const serial = await this.identifiers.nextSerial(manager);
      if (serial > MAX_SERIAL) {
        throw new ResourceExhaustedError(
          IdentifierErrorReason.SERIALS_EXHAUSTED,
          'the node has used every serial',
        );
      }
      if (isUsableSerial(prefix, objectType, serial)) return serial;
    }
  }

  private canonical(input: string): string {
    const parsed = parseIdentifier(input);
    if (!parsed.ok)
      throw new ValidationError(
        [{ field: 'identifier', description: parsed.message }],
        `IDENTIFIER_${parsed.failure}`,
      );
    return parsed.value.canonical;
  }

  private async load(input: string): Promise<IdentifierEntity> {
    const canonical = this.canonical(input);
    const entity = await this.identifiers.find(canonical);
    if (!entity) throw this.notFound(canonical);
    return entity;
  }

  private notFound(identifier: string): NotFoundError {
    return new NotFoundError(
      IdentifierErrorReason.IDENTIFIER_NOT_FOUND,
      `identifier ${identifier} was never issued by this node`,
    );
  }

  private async withHistory(entity: IdentifierEntity): Promise<IdentifierWithHistory> {
    return { entity, transitions: await this.identifiers.transitions(entity.identifier) };
  }
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
