import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import { FieldChecks, fingerprintOf } from '@cinode/common';
import { IdentifierIssued, eventOf } from '@cinode/contracts';
import { UnitOfWork, type IdempotencyKey, type Tx } from '@cinode/database';
import {
  ObjectType,
  type IssueIdentifierRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { actsForAnyOwner, issuingOwner } from '../access/identifier-access';
import { ownerNotCertified, ownerRecordMismatch, serialsExhausted } from '../errors';
import {
  MAX_SERIAL,
  formatIdentifier,
  isUsableSerial,
  type ObjectTypeCode,
} from '../format/identifier-format';
import type { IdentifierEntity } from '../identifiers/identifier.entity';
import { objectTypeCodeOf } from '../identifiers/identifiers.mapper';
import {
  IdentifiersRepository,
  type IdentifierRecord,
} from '../identifiers/identifiers.repository';
import { NodeRegistrationService } from '../node/node-registration.service';
import type { ParticipantProjectionEntity } from '../participants/participant-projection.entity';
import { ParticipantsRepository } from '../participants/participants.repository';

/** The attribute limits identifier_service.proto documents. */
const ATTRIBUTE_LIMITS = { maxEntries: 32, maxKeyChars: 64, maxValueChars: 1024 };

/** The idempotency key's operation. */
export const ISSUE_OPERATION = 'IssueIdentifier';

const CREDIT_CODE_PATTERN = /^[0-9A-HJ-NPQRTUWXY]{18}$/;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** What a request asks for: the content a request id is bound to (its fingerprint). */
interface IssueContent {
  objectType: ObjectTypeCode;
  objectName: string;
  ownerParticipantId: string;
  attributes: Record<string, string>;
}

function checkRequest(caller: Caller, request: IssueIdentifierRequest): ObjectTypeCode {
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
      required: actsForAnyOwner(caller),
      max: 128,
    })
    .text('owner_name', request.ownerName.trim(), { required: false, max: 200 })
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
  checks.stringMap('attributes', request.attributes, ATTRIBUTE_LIMITS);
  checks.throwIfAny();
  if (!objectType) throw new Error('object type checked above');
  return objectType;
}

/**
 * The owner's certified record, which the identifier is filed with. Every caller, operators and
 * services included, issues only for an owner this service knows as CERTIFIED.
 */
function certifiedRecordOf(
  owner: string,
  projection: ParticipantProjectionEntity | undefined,
): { legalName: string; creditCode: string } {
  if (projection?.state !== 'CERTIFIED') throw ownerNotCertified(owner, projection?.state);
  if (projection.legalName === null) {
    throw ownerNotCertified(
      owner,
      projection.state,
      `participant ${owner}'s certified record has not reached this service yet`,
    );
  }
  return { legalName: projection.legalName, creditCode: projection.creditCode ?? '' };
}

/** IssueIdentifier: allocates a serial, records the identifier PENDING_FILING and queues its filing. */
@Injectable()
export class IssuanceService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly identifiers: IdentifiersRepository,
    private readonly participants: ParticipantsRepository,
    private readonly node: NodeRegistrationService,
  ) {}

  async issue(
    caller: Caller,
    request: IssueIdentifierRequest,
  ): Promise<{ record: IdentifierRecord; created: boolean }> {
    const objectType = checkRequest(caller, request);
    const content: IssueContent = {
      objectType,
      objectName: request.objectName.trim(),
      ownerParticipantId: issuingOwner(caller, request.ownerParticipantId),
      attributes: request.attributes,
    };
    const key: IdempotencyKey | undefined = request.requestId
      ? {
          scope: caller.subject,
          requestId: request.requestId,
          operation: ISSUE_OPERATION,
          fingerprint: fingerprintOf(content),
        }
      : undefined;
    // The owner's state is checked inside: a retry is answered with the first identifier even
    // after the owner lost its certification.
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      const entity = await this.create(tx, caller, request, content);
      return { result: await this.identifiers.record(entity, tx), objectId: entity.identifier };
    });
    if (outcome.created) return { record: outcome.result, created: true };
    const first = await this.identifiers.find(outcome.objectId);
    if (!first)
      throw new Error(`request ${request.requestId} issued ${outcome.objectId}, which is missing`);
    return { record: await this.identifiers.record(first), created: false };
  }

  private async create(
    tx: Tx,
    caller: Caller,
    request: IssueIdentifierRequest,
    content: IssueContent,
  ): Promise<IdentifierEntity> {
    const owner = certifiedRecordOf(
      content.ownerParticipantId,
      await this.participants.lockShared(tx, content.ownerParticipantId),
    );
    // Callers written before the owner fields were deprecated may still send them: what they send
    // must be what the certified record says, or the caller believes something that is not filed.
    const mismatched: string[] = [];
    const sentName = request.ownerName.trim();
    if (sentName && sentName !== owner.legalName) mismatched.push('owner_name');
    if (request.ownerCreditCode && request.ownerCreditCode !== owner.creditCode)
      mismatched.push('owner_credit_code');
    if (mismatched.length > 0) throw ownerRecordMismatch(mismatched);

    const node = this.node.require();
    const serial = await this.allocateSerial(tx, node.identifierPrefix, content.objectType);
    const now = new Date();
    const entity: IdentifierEntity = {
      identifier: formatIdentifier(node.identifierPrefix, content.objectType, serial),
      serial,
      nodeCode: node.nodeCode,
      objectType: content.objectType,
      objectName: content.objectName,
      ownerParticipantId: content.ownerParticipantId,
      ownerName: owner.legalName,
      ownerCreditCode: owner.creditCode,
      attributes: content.attributes,
      state: 'pending_filing',
      suspensionCause: null,
      filingNumber: null,
      filingError: null,
      filedAt: null,
      issuedBy: caller.subject,
      issuedAt: now,
      stateChangedAt: now,
      version: 1,
    };
    await this.identifiers.insert(tx, entity);
    await this.identifiers.addTransitions(tx, [
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
    await tx.emit(
      eventOf(IdentifierIssued, {
        identifier: entity.identifier,
        version: entity.version,
        nodeCode: entity.nodeCode,
        objectType: entity.objectType,
        ownerParticipantId: entity.ownerParticipantId,
      }),
    );
    return entity;
  }

  /** Draws serials until one has a letter-or-digit check character (about 1 in 37 is skipped). */
  private async allocateSerial(
    tx: Tx,
    prefix: string,
    objectType: ObjectTypeCode,
  ): Promise<number> {
    for (;;) {
      const serial = await this.identifiers.nextSerial(tx);
      if (serial > MAX_SERIAL) throw serialsExhausted();
      if (isUsableSerial(prefix, objectType, serial)) return serial;
    }
  }
}
