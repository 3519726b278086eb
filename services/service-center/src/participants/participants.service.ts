import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import {
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  fingerprintOf,
  resolvePageSize,
  PageTokens,
} from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import {
  ParticipantKind,
  ParticipantState,
  UserCategory,
  type CreateParticipantRequest,
  type ListParticipantsRequest,
  type Participant,
  type ResubmitParticipantRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  actorOf,
  assertMayChange,
  assertMayRead,
  readsEverything,
  anonymousRequestScope,
  requestScopeOf,
} from '../access';
import { ErrorReason } from '../errors';
import { checkParticipantId, checkRequestId } from '../request-checks';
import { REGISTRABLE_KINDS, checkDetails, type DetailsInput } from './participant-details';
import { ParticipantTransitions } from './participant-transitions';
import type { ParticipantEntity } from './participant.entity';
import { ParticipantsRepository } from './participants.repository';
import { toIndividualDetails, toOrganizationDetails } from './participants.mapper';

/** Fields a participant may change itself; the others need an operator or a resubmission. */
const SELF_CHANGEABLE = new Set([
  'organization.address',
  'organization.contact_person',
  'organization.responsible_person',
  'individual.mobile',
  'individual.email',
]);
const OPERATOR_CHANGEABLE = new Set([
  ...SELF_CHANGEABLE,
  'name',
  'user_category',
  'organization.credit_code',
  'individual.identity_number',
]);

/** Registration, reading and the participant's own changes (reviews are the certification's). */
@Injectable()
export class ParticipantsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly participants: ParticipantsRepository,
    private readonly transitions: ParticipantTransitions,
    private readonly pageTokens: PageTokens,
  ) {}

  /**
   * Registers a participant (SUBMITTED). A retry with the caller's request id answers with the
   * participant the first call registered, as it is now.
   */
  async create(
    request: CreateParticipantRequest,
    caller: Caller | undefined,
  ): Promise<ParticipantEntity> {
    const checks = new FieldChecks();
    checkRequestId(checks, request.requestId);
    checks.enumValue('kind', request.kind, REGISTRABLE_KINDS);
    if (request.kind === ParticipantKind.PARTICIPANT_KIND_OPERATOR) {
      checks.add('kind', 'operators are created at install time, not registered');
    }
    const details = checkDetails(checks, request);
    if (!details) throw new ValidationError([{ field: 'name', description: 'is invalid' }]);
    const actor = actorOf(caller);
    const fingerprint = fingerprintOf({ kind: request.kind, ...details });
    const outcome = await this.uow.idempotentInsert(
      {
        scope: caller ? requestScopeOf(caller) : anonymousRequestScope(fingerprint),
        requestId: request.requestId,
        operation: 'CreateParticipant',
        fingerprint,
      },
      async (tx) => {
        const participant: ParticipantEntity = {
          id: randomUUID(),
          kind: request.kind,
          userCategory: details.userCategory,
          name: details.name,
          state: ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
          version: 0,
          organization: details.organization,
          individual: details.individual,
          createdBy: actor,
          createdAt: new Date(),
          updatedAt: new Date(),
        };
        await this.transitions.register(tx, participant, actor, new Date());
        return { result: participant, objectId: participant.id };
      },
    );
    if (outcome.created) return outcome.result;
    const existing = await this.require(outcome.objectId);
    if (caller) return existing;
    // A caller without a token proves nothing but knowing the registration it repeats (all of its
    // content and its request id): it gets that content back with the participant's id and where
    // the registration stands (state, version, times), not details the participant changed since.
    return { ...existing, ...details, kind: request.kind };
  }

  async get(id: string, caller: Caller): Promise<ParticipantEntity> {
    checkParticipantId(id);
    assertMayRead(caller, id);
    return this.require(id);
  }

  async require(id: string): Promise<ParticipantEntity> {
    const participant = await this.participants.findById(id);
    if (!participant) throw notFound(id);
    return participant;
  }

  async list(
    request: ListParticipantsRequest,
    caller: Caller,
  ): Promise<{ participants: ParticipantEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    const checks = new FieldChecks().text('name_contains', request.nameContains, {
      required: false,
      max: 200,
    });
    if (
      request.kind !== ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED &&
      ParticipantKind[request.kind] === undefined
    )
      checks.add('kind', `unknown value ${request.kind}`);
    if (
      request.state !== ParticipantState.PARTICIPANT_STATE_UNSPECIFIED &&
      ParticipantState[request.state] === undefined
    )
      checks.add('state', `unknown value ${request.state}`);
    checks.throwIfAny();
    const filter = {
      kind: request.kind || undefined,
      state: request.state || undefined,
      nameContains: request.nameContains || undefined,
      onlyId: readsEverything(caller) ? undefined : caller.tenant,
    };
    const filterKey = JSON.stringify(['participants', filter]);
    const rows = await this.participants.list(
      filter,
      limit,
      this.pageTokens.decode(request.pageToken, filterKey),
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (p) => ({ after: p.createdAt.toISOString(), afterId: p.id }),
      filterKey,
    );
    return { participants: page, nextPageToken };
  }

  async update(
    patch: Participant | undefined,
    updateMask: string[] | undefined,
    caller: Caller,
  ): Promise<ParticipantEntity> {
    if (!patch) throw new ValidationError([{ field: 'participant', description: 'is required' }]);
    checkParticipantId(patch.id, 'participant.id');
    assertMayChange(caller, patch.id);
    // FieldMask arrives as its paths: @cinode/proto maps it to the string[] the generated types declare.
    const paths = updateMask ?? [];
    const checks = new FieldChecks();
    if (paths.length === 0) checks.add('update_mask', 'must name at least one field');
    const operator = hasRole(caller, 'operator');
    for (const path of paths) {
      if (!OPERATOR_CHANGEABLE.has(path))
        checks.add('update_mask', `unknown or unchangeable field "${path}"`);
    }
    checks.throwIfAny();
    const forbidden = paths.filter((p) => !operator && !SELF_CHANGEABLE.has(p));
    if (forbidden.length > 0) {
      throw new PermissionDeniedError(
        ErrorReason.FIELD_NOT_CHANGEABLE,
        `only operators change ${forbidden.join(', ')}; a rejected participant resubmits instead`,
      );
    }
    return this.uow.run(async (tx) => {
      const current = await this.lock(tx, patch.id);
      if (current.state === (ParticipantState.PARTICIPANT_STATE_REVOKED as number)) {
        throw new FailedPreconditionError(
          ErrorReason.PARTICIPANT_REVOKED,
          'a revoked participant cannot change',
          { metadata: { current_state: 'PARTICIPANT_STATE_REVOKED' } },
        );
      }
      const details = checkDetails(new FieldChecks(), mergeDetails(current, patch, paths));
      if (!details) throw new Error('checkDetails returns details or throws');
      Object.assign(current, details);
      return this.transitions.update(tx, current, actorOf(caller), new Date());
    });
  }

  async resubmit(request: ResubmitParticipantRequest, caller: Caller): Promise<ParticipantEntity> {
    checkParticipantId(request.participantId);
    assertMayChange(caller, request.participantId);
    const checks = new FieldChecks().text('reason', request.reason.trim(), { max: 500 });
    return this.uow.run(async (tx) => {
      const current = await this.lock(tx, request.participantId);
      const details = checkDetails(checks, { ...request, kind: current.kind });
      if (!details) throw new Error('checkDetails returns details or throws');
      return this.transitions.apply(
        tx,
        current,
        'resubmit',
        actorOf(caller),
        request.reason.trim(),
        new Date(),
        details,
      );
    });
  }

  private async lock(tx: Tx, id: string): Promise<ParticipantEntity> {
    const participant = await this.participants.lock(tx, id);
    if (!participant) throw notFound(id);
    return participant;
  }
}

export function notFound(id: string): NotFoundError {
  return new NotFoundError(ErrorReason.PARTICIPANT_NOT_FOUND, `participant ${id} does not exist`);
}

/** The participant's details with the masked fields taken from the patch. */
function mergeDetails(
  current: ParticipantEntity,
  patch: Participant,
  paths: string[],
): DetailsInput {
  const has = (p: string) => paths.includes(p);
  const org = toOrganizationDetails(current.organization);
  const ind = toIndividualDetails(current.individual);
  const po = patch.organization;
  const pi = patch.individual;
  if (org) {
    if (has('organization.credit_code')) org.creditCode = po?.creditCode ?? '';
    if (has('organization.address')) org.address = po?.address ?? '';
    if (has('organization.contact_person')) org.contactPerson = po?.contactPerson ?? undefined;
    if (has('organization.responsible_person'))
      org.responsiblePerson = po?.responsiblePerson ?? undefined;
  }
  if (ind) {
    if (has('individual.identity_number')) ind.identityNumber = pi?.identityNumber ?? '';
    if (has('individual.mobile')) ind.mobile = pi?.mobile ?? '';
    if (has('individual.email')) ind.email = pi?.email ?? '';
  }
  return {
    kind: current.kind,
    userCategory: has('user_category')
      ? patch.userCategory
      : (current.userCategory as UserCategory),
    name: has('name') ? patch.name : current.name,
    organization: org,
    individual: ind,
  };
}
