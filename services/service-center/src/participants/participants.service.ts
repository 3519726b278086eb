import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  decodePageToken,
  pageOf,
  resolvePageSize,
} from '@cinode/common';
import {
  ParticipantKind,
  ParticipantState,
  UserCategory,
  type CreateParticipantRequest,
  type ListParticipantsRequest,
  type Participant,
  type ResubmitParticipantRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { actorOf, assertMayChange, assertMayRead, readsEverything } from '../access';
import { nextState, shortStateName } from '../certification/certification-state';
import { ParticipantEvents } from '../outbox-events';
import { kindName } from './participant-roles';
import { REGISTRABLE_KINDS, checkDetails, type DetailsInput } from './participant-details';
import type { ParticipantEntity } from './participant.entity';
import { ParticipantsRepository, type ParticipantsTx } from './participants.repository';
import { toIndividualDetails, toOrganizationDetails } from './participants.mapper';

export const ParticipantErrorReason = {
  PARTICIPANT_NOT_FOUND: 'PARTICIPANT_NOT_FOUND',
  REQUEST_ID_REUSED: 'REQUEST_ID_REUSED',
  PARTICIPANT_REVOKED: 'PARTICIPANT_REVOKED',
  FIELD_NOT_CHANGEABLE: 'FIELD_NOT_CHANGEABLE',
} as const;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

export function checkParticipantId(id: string, field = 'participant_id'): void {
  new FieldChecks()
    .text(field, id, { max: 36, pattern: UUID, patternHint: 'must be a participant id (UUID)' })
    .throwIfAny();
}

export function checkRequestId(checks: FieldChecks, value: string): void {
  checks.text('request_id', value, {
    max: 64,
    pattern: REQUEST_ID,
    patternHint: "must be 1 to 64 letters, digits, '.', '_', ':' or '-'",
  });
}

@Injectable()
export class ParticipantsService {
  constructor(private readonly participants: ParticipantsRepository) {}

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
    const now = new Date();
    const actor = actorOf(caller);
    const candidate: ParticipantEntity = {
      id: randomUUID(),
      kind: request.kind,
      userCategory: details.userCategory,
      name: details.name,
      state: ParticipantState.PARTICIPANT_STATE_SUBMITTED,
      organization: details.organization,
      individual: details.individual,
      requestId: request.requestId,
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
    };
    const inserted = await this.participants.transaction(async (tx) => {
      if (!(await tx.insertIfAbsent(candidate))) return false;
      await tx.recordTransition({
        id: randomUUID(),
        participantId: candidate.id,
        fromState: ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
        toState: candidate.state,
        actor,
        reason: 'registered',
        createdAt: now,
      });
      await tx.emit([
        {
          type: ParticipantEvents.REGISTERED,
          data: {
            participantId: candidate.id,
            kind: kindName(candidate.kind),
            state: shortStateName(candidate.state),
            previousState: null,
            reason: 'registered',
            actor,
          },
        },
      ]);
      return true;
    });
    if (inserted) return candidate;
    const existing = await this.participants.findByRequestId(request.requestId);
    if (!existing)
      throw new Error(`participant request ${request.requestId} conflicted but cannot be read`);
    const sameRequest =
      existing.kind === (request.kind as number) &&
      existing.userCategory === details.userCategory &&
      existing.name === details.name &&
      canonicalJson(existing.organization) === canonicalJson(details.organization) &&
      canonicalJson(existing.individual) === canonicalJson(details.individual);
    if (!sameRequest) {
      throw new AlreadyExistsError(
        ParticipantErrorReason.REQUEST_ID_REUSED,
        `request_id ${request.requestId} already registered a different participant`,
        { metadata: { participant_id: existing.id } },
      );
    }
    return existing;
  }

  async get(id: string, caller: Caller): Promise<ParticipantEntity> {
    checkParticipantId(id);
    assertMayRead(caller, id);
    return this.require(id);
  }

  async require(id: string): Promise<ParticipantEntity> {
    const participant = await this.participants.findById(id);
    if (!participant)
      throw new NotFoundError(
        ParticipantErrorReason.PARTICIPANT_NOT_FOUND,
        `participant ${id} does not exist`,
      );
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
      decodePageToken(request.pageToken, filterKey),
    );
    const { page, nextPageToken } = pageOf(
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
        ParticipantErrorReason.FIELD_NOT_CHANGEABLE,
        `only operators change ${forbidden.join(', ')}; a rejected participant resubmits instead`,
      );
    }
    return this.participants.transaction(async (tx) => {
      const current = await this.lock(tx, patch.id);
      if (current.state === (ParticipantState.PARTICIPANT_STATE_REVOKED as number)) {
        throw new FailedPreconditionError(
          ParticipantErrorReason.PARTICIPANT_REVOKED,
          'a revoked participant cannot change',
          {
            metadata: { current_state: 'PARTICIPANT_STATE_REVOKED' },
          },
        );
      }
      const merged = mergeDetails(current, patch, paths);
      const details = checkDetails(new FieldChecks(), merged);
      if (!details) throw new Error('checkDetails returns details or throws');
      Object.assign(current, details, { updatedAt: new Date() });
      await tx.save(current);
      return current;
    });
  }

  async resubmit(request: ResubmitParticipantRequest, caller: Caller): Promise<ParticipantEntity> {
    checkParticipantId(request.participantId);
    assertMayChange(caller, request.participantId);
    const checks = new FieldChecks().text('reason', request.reason.trim(), { max: 500 });
    return this.participants.transaction(async (tx) => {
      const current = await this.lock(tx, request.participantId);
      const details = checkDetails(checks, { ...request, kind: current.kind });
      if (!details) throw new Error('checkDetails returns details or throws');
      const from = current.state as ParticipantState;
      const to = nextState(from, 'resubmit');
      const now = new Date();
      const actor = actorOf(caller);
      Object.assign(current, details, { state: to, updatedAt: now });
      await tx.save(current);
      await tx.recordTransition({
        id: randomUUID(),
        participantId: current.id,
        fromState: from,
        toState: to,
        actor,
        reason: request.reason.trim(),
        createdAt: now,
      });
      await tx.emit([
        {
          type: ParticipantEvents.REGISTERED,
          data: {
            participantId: current.id,
            kind: kindName(current.kind),
            state: shortStateName(to),
            previousState: shortStateName(from),
            reason: request.reason.trim(),
            actor,
          },
        },
      ]);
      return current;
    });
  }

  private async lock(tx: ParticipantsTx, id: string): Promise<ParticipantEntity> {
    const participant = await tx.lockById(id);
    if (!participant)
      throw new NotFoundError(
        ParticipantErrorReason.PARTICIPANT_NOT_FOUND,
        `participant ${id} does not exist`,
      );
    return participant;
  }
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

/** JSON with keys sorted and absent values dropped: jsonb does not keep key order or undefined. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined && x !== null)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
