import { Injectable, Optional } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import { FieldChecks, ValidationError, resolvePageSize, PageTokens } from '@cinode/common';
import {
  ObjectType,
  type ListIdentifiersRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { assertMayResolve, listedOwner } from '../access/identifier-access';
import { identifierNotFound } from '../errors';
import { canonicalIdentifier } from '../identifiers/identifier-input';
import type { IdentifierEntity } from '../identifiers/identifier.entity';
import { objectTypeCodeOf, stateNameOf } from '../identifiers/identifiers.mapper';
import { ResolveCache } from './resolve-cache';
import {
  IdentifiersRepository,
  type IdentifierRecord,
} from '../identifiers/identifiers.repository';

/** ResolveIdentifier and ListIdentifiers. */
@Injectable()
export class QueriesService {
  constructor(
    private readonly identifiers: IdentifiersRepository,
    private readonly pageTokens: PageTokens,
    @Optional() private readonly cache?: ResolveCache,
  ) {}

  /**
   * A record the resolve cache holds and the caller may see, at once; undefined when resolve()
   * must answer (not remembered, malformed, or to be refused: resolve() raises the error).
   */
  remembered(caller: Caller, input: string): IdentifierRecord | undefined {
    if (!this.cache) return undefined;
    let record: IdentifierRecord | undefined;
    try {
      record = this.cache.get(canonicalIdentifier(input));
      if (record) assertMayResolve(caller, record.entity);
    } catch {
      return undefined;
    }
    return record;
  }

  async resolve(caller: Caller, input: string): Promise<IdentifierRecord> {
    const canonical = canonicalIdentifier(input);
    let record = this.cache?.get(canonical);
    if (!record) {
      const mark = this.cache?.mark() ?? 0;
      record = await this.identifiers.findRecord(canonical);
      if (!record) throw identifierNotFound(canonical);
      this.cache?.remember(canonical, record, mark);
    }
    assertMayResolve(caller, record.entity);
    return record;
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
    const owner = listedOwner(caller, request.ownerParticipantId);
    const state = stateNameOf(request.state);
    const filterKey = `identifiers:${owner ?? ''}:${objectType ?? ''}:${state ?? ''}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
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
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (i) => ({ after: String(i.serial), afterId: i.identifier }),
      filterKey,
    );
    return { identifiers: page, nextPageToken };
  }
}
