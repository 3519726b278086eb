import { Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  resolvePageSize,
  PageTokens,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import {
  IdentifiedObjectType,
  type FileIdentifierRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { contentSha256 } from '../content-hash';
import { ErrorReason, NATIONAL_SCOPE } from '../errors';
import { NODE_CODE_RULES } from '../nodes/nodes.service';
import type { Caller } from '@cinode/auth';
import { actsFor, assertActsFor, ownerScopeOf } from '../nodes/node-access';
import { NodesRepository } from '../nodes/nodes.repository';
import { FilingsRepository } from './filings.repository';
import type { IdentifierFilingEntity } from './identifier-filing.entity';

/** The attribute limits national_node_service.proto documents. */
const ATTRIBUTE_LIMITS = { maxEntries: 32, maxKeyChars: 64, maxValueChars: 1024 };

const IDENTIFIER_PATTERN = /^[A-Za-z0-9.-]+$/;
const CREDIT_CODE_PATTERN = /^[0-9A-HJ-NPQRTUWXY]{18}$/;
const OBJECT_TYPES = [
  IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_RESOURCE_POOL,
  IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_PARTICIPANT,
  IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_LINE,
  IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_APPLICATION_SERVICE,
];

@Injectable()
export class FilingsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly filings: FilingsRepository,
    private readonly nodes: NodesRepository,
    private readonly pageTokens: PageTokens,
  ) {}

  async file(
    request: FileIdentifierRequest,
    caller: Caller,
  ): Promise<{ filing: IdentifierFilingEntity; created: boolean }> {
    const checks = new FieldChecks()
      .text('node_code', request.nodeCode, NODE_CODE_RULES)
      .text('identifier', request.identifier, {
        max: 128,
        pattern: IDENTIFIER_PATTERN,
        patternHint: "must be letters, digits, '.' or '-'",
      })
      .enumValue('object_type', request.objectType, OBJECT_TYPES)
      .text('object_name', request.objectName, { max: 200 })
      .text('owner_name', request.ownerName, { max: 200 })
      .text('owner_credit_code', request.ownerCreditCode, {
        required: false,
        max: 18,
        pattern: CREDIT_CODE_PATTERN,
        patternHint: 'must be an 18-character unified social credit code',
      })
      .timestamp('allocated_at', request.allocatedAt);
    checks.stringMap('attributes', request.attributes, ATTRIBUTE_LIMITS);
    checks.throwIfAny();

    const node = await this.nodes.findByCode(request.nodeCode);
    if (!node) {
      throw new FailedPreconditionError(
        ErrorReason.NODE_NOT_REGISTERED,
        `node ${request.nodeCode} is not registered`,
      );
    }
    assertActsFor(caller, node);
    const identifier = request.identifier.toUpperCase();
    if (
      !identifier.startsWith(`${node.identifierPrefix}.`) ||
      identifier.length <= node.identifierPrefix.length + 1
    ) {
      throw new FailedPreconditionError(
        ErrorReason.IDENTIFIER_OUTSIDE_PREFIX,
        `identifier ${identifier} does not start with the node's prefix ${node.identifierPrefix}.`,
        { metadata: { identifier_prefix: node.identifierPrefix } },
      );
    }
    const allocatedAt = fromTimestamp(request.allocatedAt!);
    const content = {
      nodeCode: node.nodeCode,
      identifier,
      objectType: request.objectType,
      objectName: request.objectName,
      ownerName: request.ownerName,
      ownerCreditCode: request.ownerCreditCode,
      attributes: request.attributes,
      allocatedAt,
    };
    const hash = contentSha256(content);
    // Filing the same identifier with the same content again is the same filing.
    const outcome = await this.uow.idempotentInsert(
      {
        scope: NATIONAL_SCOPE,
        requestId: `filing:${identifier}`,
        operation: 'FileIdentifier',
        fingerprint: hash,
      },
      async (tx) => {
        const filing = await this.filings.insert(tx, { ...content, contentSha256: hash });
        return { result: filing, objectId: filing.identifier };
      },
      {
        conflict: async () => {
          const existing = await this.filings.find(identifier);
          return new AlreadyExistsError(
            ErrorReason.IDENTIFIER_ALREADY_FILED,
            `identifier ${identifier} is already filed as ${existing?.filingNumber ?? '?'} with different content`,
            { metadata: { filing_number: existing?.filingNumber ?? '' } },
          );
        },
      },
    );
    if (outcome.created) return { filing: outcome.result, created: true };
    return { filing: await this.get(outcome.objectId, caller), created: false };
  }

  /** One filing; a node's service sees only its own node's (another's is not found). */
  async get(identifier: string, caller: Caller): Promise<IdentifierFilingEntity> {
    new FieldChecks()
      .text('identifier', identifier, {
        max: 128,
        pattern: IDENTIFIER_PATTERN,
        patternHint: "must be letters, digits, '.' or '-'",
      })
      .throwIfAny();
    const filing = await this.filings.find(identifier.toUpperCase());
    const node = filing && (await this.nodes.findByCode(filing.nodeCode));
    if (!filing || !node || !actsFor(caller, node))
      throw new NotFoundError(
        ErrorReason.FILING_NOT_FOUND,
        `identifier ${identifier} is not filed`,
      );
    return filing;
  }

  async list(
    nodeCode: string,
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ filings: IdentifierFilingEntity[]; nextPageToken: string }> {
    new FieldChecks()
      .text('node_code', nodeCode, { ...NODE_CODE_RULES, required: false })
      .throwIfAny();
    const limit = resolvePageSize(pageSize);
    const owner = ownerScopeOf(caller);
    const filterKey = `filings:${nodeCode}:${owner ?? ''}`;
    const rows = await this.filings.list(
      nodeCode,
      limit,
      this.pageTokens.decode(pageToken, filterKey),
      owner,
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (f) => ({ after: f.filedAt.toISOString(), afterId: f.identifier }),
      filterKey,
    );
    return { filings: page, nextPageToken };
  }
}
