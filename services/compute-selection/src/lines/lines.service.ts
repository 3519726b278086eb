import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import { LineRegistered } from '@cinode/contracts';
import {
  DomainError,
  FieldChecks,
  PageTokens,
  PermissionDeniedError,
  ResourceExhaustedError,
  fingerprintOf,
  resolvePageSize,
} from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type {
  ListLinesRequest,
  RegisterLineRequest,
  UpdateLineRequest,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import type { ComputeSelectionConfig } from '../config';
import { ErrorReason } from '../errors';
import { LINE_IDENTIFIERS, type LineIdentifiers } from './identifier.gateway';
import {
  REQUEST_ID_PATTERN,
  checkLineFigures,
  checkLineSpec,
  lineIdOf,
  lineNotFound,
  type CheckedLineSpec,
} from './line-input';
import { lineEvent } from './line-view';
import type { LineEntity } from './line.entity';
import { LinesRepository } from './lines.repository';

export const REGISTER_LINE_OPERATION = 'RegisterLine';

/** The LineSpec fields UpdateLine changes, by their proto names. */
const UPDATABLE = {
  bandwidth_mbps_total: 'bandwidthMbpsTotal',
  bandwidth_mbps_free: 'bandwidthMbpsFree',
  latency_ms: 'latencyMs',
  price_fen_per_hour: 'priceFenPerHour',
  availability: 'availability',
  out_of_service: 'outOfService',
} as const satisfies Record<string, keyof CheckedLineSpec>;

function isUpdatable(path: string): path is keyof typeof UPDATABLE {
  return Object.hasOwn(UPDATABLE, path);
}

/** Operators, regulators and the node's services see every line; line providers their own. */
export function seesEveryLine(caller: Caller): boolean {
  return hasRole(caller, 'operator', 'regulator', 'service');
}

function maySee(caller: Caller, line: Pick<LineEntity, 'providerParticipantId'>): boolean {
  return (
    seesEveryLine(caller) ||
    (Boolean(caller.tenant) && line.providerParticipantId === caller.tenant)
  );
}

@Injectable()
export class LinesService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly lines: LinesRepository,
    private readonly pageTokens: PageTokens,
    @Inject(LINE_IDENTIFIERS) private readonly identifiers: LineIdentifiers,
    @InjectConfig() config: Pick<ComputeSelectionConfig, 'MAX_LINES_PER_PROVIDER'>,
  ) {
    this.maxLinesPerProvider = config.MAX_LINES_PER_PROVIDER;
  }

  private readonly maxLinesPerProvider: number;

  /**
   * Registers a line of the calling line provider (or, for an operator, of the provider it names):
   * its identifier is issued first (idempotently, keyed by the caller and request id, so a retry
   * gets the same one), then the line is stored with it and its event queued.
   */
  async register(
    caller: Caller,
    request: RegisterLineRequest,
  ): Promise<{ line: LineEntity; created: boolean }> {
    const checks = new FieldChecks().text('request_id', request.requestId, {
      max: 64,
      pattern: REQUEST_ID_PATTERN,
      patternHint: "must be letters, digits, '.', '_', ':' or '-'",
    });
    const operator = hasRole(caller, 'operator');
    checks.text('provider_participant_id', request.providerParticipantId, {
      required: operator,
      max: 128,
    });
    const spec = checkLineSpec(request.spec, checks);
    checks.throwIfAny();
    if (!spec) throw new Error('checkLineSpec returned nothing without a violation');
    const provider = this.ownerFor(caller, request.providerParticipantId, operator);
    const key = {
      scope: caller.subject,
      requestId: request.requestId,
      operation: REGISTER_LINE_OPERATION,
      fingerprint: fingerprintOf({ spec, provider }),
    };
    // A retry of a registration that went through answers from what was stored, even while the
    // identifier service is down.
    const prior = await this.uow.priorOutcome(key);
    if (prior) return { line: await this.get(caller, prior.objectId), created: false };
    // Before an identifier is issued for nothing; checked again under a lock when stored.
    await this.checkQuota(undefined, provider);
    // Unique per caller and request id, within the 64 characters the identifier service takes.
    const issueKey = `ln-${createHash('sha256').update(`${caller.subject}\u0000${request.requestId}`).digest('base64url').slice(0, 43)}`;
    const issued = await this.identifiers.issue({
      requestId: issueKey,
      name: spec.name,
      ownerParticipantId: provider,
      attributes: {
        endpoint_a: `${spec.aRegionCode}/${spec.aSite}`,
        endpoint_b: `${spec.bRegionCode}/${spec.bSite}`,
        bandwidth_mbps: String(spec.bandwidthMbpsTotal),
      },
    });
    const lineId = issued.identifier.toUpperCase();
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      await this.checkQuota(tx, provider);
      await this.lines.lockIdentifier(tx, lineId);
      // Its filing may have been accepted (and its event received) before this commits.
      await this.lines.recordFiling(tx, lineId, issued.filing, 0);
      const filing = (await this.lines.filingOf(tx, lineId)) ?? issued.filing;
      const now = new Date();
      const line: LineEntity = {
        lineId,
        providerParticipantId: provider,
        ...spec,
        filing,
        bandwidthMbpsReserved: 0,
        version: 1,
        specVersion: 1,
        registeredAt: now,
        updatedAt: now,
      };
      await this.lines.insert(tx, line);
      await tx.emit(lineEvent(line, LineRegistered));
      return { result: line, objectId: lineId };
    });
    if (outcome.created) return { line: outcome.result, created: true };
    return { line: await this.get(caller, outcome.objectId), created: false };
  }

  /** RESOURCE_EXHAUSTED when the provider has MAX_LINES_PER_PROVIDER lines already. */
  private async checkQuota(tx: Tx | undefined, provider: string): Promise<void> {
    const count = await this.lines.countOfProvider(tx, provider);
    if (count >= this.maxLinesPerProvider)
      throw new ResourceExhaustedError(
        ErrorReason.LINE_QUOTA_EXCEEDED,
        `the line provider has ${count} lines, the most this node takes (${this.maxLinesPerProvider})`,
        { metadata: { max_lines: String(this.maxLinesPerProvider) } },
      );
  }

  /** Changes the masked figures of one of the caller's lines; its version advances. */
  async update(caller: Caller, request: UpdateLineRequest): Promise<LineEntity> {
    const lineId = lineIdOf(request.lineId);
    const paths = request.updateMask ?? [];
    const checks = new FieldChecks();
    if (paths.length === 0) checks.add('update_mask', 'must name at least one field');
    for (const path of paths)
      if (!isUpdatable(path)) checks.add('update_mask', `unknown or unchangeable field "${path}"`);
    if (!request.spec) checks.add('spec', 'is required');
    if (!Number.isSafeInteger(request.expectedVersion) || request.expectedVersion < 0)
      checks.add('expected_version', 'must be a whole number, 0 or more');
    if (!Number.isSafeInteger(request.expectedSpecVersion) || request.expectedSpecVersion < 0)
      checks.add('expected_spec_version', 'must be a whole number, 0 or more');
    checks.throwIfAny();
    const patch = request.spec!;
    return this.uow.run(async (tx) => {
      const line = await this.lines.lock(tx, lineId);
      // Only its owner changes a line; to anyone else another provider's line is absent.
      if (!line || !caller.tenant || line.providerParticipantId !== caller.tenant)
        throw lineNotFound(lineId);
      if (request.expectedVersion !== 0 && request.expectedVersion !== line.version)
        throw new DomainError(
          'ABORTED',
          ErrorReason.VERSION_MISMATCH,
          `line ${lineId} is at version ${line.version}, not ${request.expectedVersion}; read it again`,
          { metadata: { current_version: String(line.version) } },
        );
      if (request.expectedSpecVersion !== 0 && request.expectedSpecVersion !== line.specVersion)
        throw new DomainError(
          'ABORTED',
          ErrorReason.VERSION_MISMATCH,
          `line ${lineId}'s figures are at spec version ${line.specVersion}, not ${request.expectedSpecVersion}; read it again`,
          { metadata: { current_spec_version: String(line.specVersion) } },
        );
      const next: LineEntity = { ...line };
      for (const path of paths) {
        if (!isUpdatable(path)) continue;
        const field = UPDATABLE[path];
        if (field === 'outOfService') next.outOfService = patch.outOfService;
        else next[field] = patch[field];
      }
      const figures = new FieldChecks();
      checkLineFigures(figures, next);
      figures.throwIfAny();
      const changed = Object.values(UPDATABLE).some((field) => next[field] !== line[field]);
      if (!changed) return line;
      next.version = line.version + 1;
      next.specVersion = line.specVersion + 1;
      next.updatedAt = new Date();
      await this.lines.save(tx, next);
      await tx.emit(lineEvent(next));
      return next;
    });
  }

  async get(caller: Caller, lineIdInput: string): Promise<LineEntity> {
    const lineId = lineIdOf(lineIdInput);
    const line = await this.lines.findById(lineId);
    // Another provider's line is answered as absent: ids are not secret, but their owners are.
    if (!line || !maySee(caller, line)) throw lineNotFound(lineId);
    return line;
  }

  async list(
    caller: Caller,
    request: ListLinesRequest,
  ): Promise<{ lines: LineEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    new FieldChecks()
      .text('provider_participant_id', request.providerParticipantId, { required: false, max: 128 })
      .throwIfAny();
    let provider = request.providerParticipantId || undefined;
    if (!seesEveryLine(caller)) {
      if (!caller.tenant)
        throw new PermissionDeniedError(
          ErrorReason.NOT_A_PARTICIPANT,
          'only a participant lists its lines',
        );
      if (provider && provider !== caller.tenant)
        throw new PermissionDeniedError(
          ErrorReason.NOT_OWNER,
          'line providers may list only their own lines',
        );
      provider = caller.tenant;
    }
    const filterKey = `lines:${provider ?? ''}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.lines.list({ providerParticipantId: provider }, limit, after);
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (line) => ({ after: line.registeredAt.toISOString(), afterId: line.lineId }),
      filterKey,
    );
    return { lines: page, nextPageToken };
  }

  /** Whose line a registration makes: the caller's own, or for an operator the one it names. */
  private ownerFor(caller: Caller, named: string, operator: boolean): string {
    if (operator) return named;
    // The RPC admits only these roles; checked here too, as the rule is this service's.
    if (!hasRole(caller, 'line_provider'))
      throw new PermissionDeniedError(
        'ROLE_NOT_ALLOWED',
        'only line providers (and operators) register lines',
      );
    if (!caller.tenant)
      throw new PermissionDeniedError(
        ErrorReason.NOT_A_PARTICIPANT,
        'only a participant registers lines',
      );
    if (named !== '' && named !== caller.tenant)
      throw new PermissionDeniedError(
        ErrorReason.NOT_OWNER,
        'a line provider registers only its own lines',
      );
    return caller.tenant;
  }
}
