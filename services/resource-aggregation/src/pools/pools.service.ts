import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import { PoolRegistered } from '@cinode/contracts';
import {
  FieldChecks,
  PageTokens,
  PermissionDeniedError,
  fingerprintOf,
  resolvePageSize,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import type {
  ListPoolsRequest,
  RegisterPoolRequest,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { PoolState } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { POOL_IDENTIFIERS, type PoolIdentifiers } from './identifier.gateway';
import { maySee, seesEveryPool } from './pool-access';
import {
  REQUEST_ID_PATTERN,
  checkPoolSpec,
  poolIdOf,
  poolNotFound,
  type PoolSpecData,
} from './pool-input';
import { NOTHING_HELD, poolEvent, poolStateNameOf } from './pool-view';
import type { PoolEntity } from './pool.entity';
import { PoolsRepository } from './pools.repository';

export const REGISTER_POOL_OPERATION = 'RegisterPool';
/** The southbound contract versions this node speaks. */
export const CONTRACT_VERSIONS = [1] as const;

@Injectable()
export class PoolsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pools: PoolsRepository,
    private readonly pageTokens: PageTokens,
    @Inject(POOL_IDENTIFIERS) private readonly identifiers: PoolIdentifiers,
  ) {}

  /**
   * Registers a pool of the calling provider: its identifier is issued first (idempotently, keyed
   * by the caller and request id, so a retry gets the same one), then the pool is stored with it.
   */
  async register(
    caller: Caller,
    request: RegisterPoolRequest,
  ): Promise<{ pool: PoolEntity; created: boolean }> {
    const checks = new FieldChecks().text('request_id', request.requestId, {
      max: 64,
      pattern: REQUEST_ID_PATTERN,
      patternHint: "must be letters, digits, '.', '_', ':' or '-'",
    });
    const contractVersion = request.contractVersion === 0 ? 1 : request.contractVersion;
    if (!(CONTRACT_VERSIONS as readonly number[]).includes(contractVersion))
      checks.add('contract_version', `must be one of ${CONTRACT_VERSIONS.join(', ')}`);
    const spec = checkPoolSpec(request.spec, checks);
    const keyOf = (data: PoolSpecData) => ({
      scope: caller.subject,
      requestId: request.requestId,
      operation: REGISTER_POOL_OPERATION,
      fingerprint: fingerprintOf({ spec: data, contractVersion }),
    });
    // A registration stored before a check grew stricter (a provider's agent registers its pools
    // again, with the same request ids, at every start) is answered from what was stored, as any
    // retry is: the pool it names must not go stale for a name it was given long ago.
    if (!checks.ok && spec && caller.tenant && REQUEST_ID_PATTERN.test(request.requestId)) {
      const stored = await this.uow.priorOutcome(keyOf(spec));
      if (stored) return { pool: await this.get(caller, stored.objectId), created: false };
    }
    checks.throwIfAny();
    if (!spec) throw new Error('checkPoolSpec returned nothing without a violation');
    if (!caller.tenant)
      throw new PermissionDeniedError('NOT_A_PARTICIPANT', 'only a participant registers pools');
    const provider = caller.tenant;
    const key = keyOf(spec);
    // A retry of a registration that went through answers from what was stored, even while the
    // identifier service is down.
    const prior = await this.uow.priorOutcome(key);
    if (prior) return { pool: await this.get(caller, prior.objectId), created: false };
    // Unique per provider and request id, within the 64 characters the identifier service takes.
    const issueKey = `rp-${createHash('sha256').update(`${caller.subject}\u0000${request.requestId}`).digest('base64url').slice(0, 43)}`;
    const issued = await this.identifiers.issue({
      requestId: issueKey,
      name: spec.name,
      ownerParticipantId: provider,
      attributes: { site: spec.site, region: spec.regionCode, class: spec.poolClass },
    });
    const poolId = issued.identifier.toUpperCase();
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      await this.pools.lockIdentifier(tx, poolId);
      // Its filing may have been accepted (and its event received) before this commits.
      await this.pools.recordFiling(tx, poolId, issued.filing, 0);
      const filing = (await this.pools.filingOf(tx, poolId)) ?? issued.filing;
      // Its risk may have been assessed (and its event received) before this commits too.
      const risk = await this.pools.riskOf(tx, poolId);
      const now = new Date();
      const pool: PoolEntity = {
        poolId,
        providerParticipantId: provider,
        ...spec,
        filing,
        liveness: 'unknown',
        inventory: null,
        inventorySequence: 0,
        observedAt: null,
        lastReportedAt: null,
        held: { ...NOTHING_HELD },
        version: 1,
        securityLevelCap: risk?.securityLevelCap ?? null,
        quarantined: risk?.quarantined ?? false,
        riskVersion: risk?.version ?? 0,
        contractVersion,
        registeredAt: now,
        stateChangedAt: now,
      };
      await this.pools.insert(tx, pool);
      await tx.emit(poolEvent(pool, PoolRegistered));
      return { result: pool, objectId: poolId };
    });
    if (outcome.created) return { pool: outcome.result, created: true };
    return { pool: await this.get(caller, outcome.objectId), created: false };
  }

  async get(caller: Caller, poolIdInput: string): Promise<PoolEntity> {
    const poolId = poolIdOf(poolIdInput);
    const pool = await this.pools.findById(poolId);
    // Another provider's pool is answered as absent: ids are not secret, but their owners are.
    if (!pool || !maySee(caller, pool)) throw poolNotFound(poolId);
    return pool;
  }

  async list(
    caller: Caller,
    request: ListPoolsRequest,
  ): Promise<{ pools: PoolEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    const checks = new FieldChecks()
      .text('provider_participant_id', request.providerParticipantId, { required: false, max: 128 })
      .text('region_code', request.regionCode, {
        required: false,
        max: 6,
        pattern: /^\d{6}$/,
        patternHint: 'must be a six-digit administrative division code',
      });
    const state = poolStateNameOf(request.state);
    if (request.state !== PoolState.POOL_STATE_UNSPECIFIED && !state)
      checks.add('state', `unknown value ${request.state}`);
    checks.throwIfAny();
    let provider = request.providerParticipantId || undefined;
    if (!seesEveryPool(caller)) {
      if (!caller.tenant)
        throw new PermissionDeniedError('NOT_A_PARTICIPANT', 'only a participant lists its pools');
      if (provider && provider !== caller.tenant)
        throw new PermissionDeniedError('NOT_OWNER', 'providers may list only their own pools');
      provider = caller.tenant;
    }
    const filterKey = `pools:${provider ?? ''}:${state ?? ''}:${request.regionCode}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.pools.list(
      { providerParticipantId: provider, state, regionCode: request.regionCode || undefined },
      limit,
      after,
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (pool) => ({ after: pool.registeredAt.toISOString(), afterId: pool.poolId }),
      filterKey,
    );
    return { pools: page, nextPageToken };
  }
}
