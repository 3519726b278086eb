import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import {
  FindingOpened,
  FindingUpdated,
  eventOf,
  type AssetKindName,
  type EventMessage,
  type FindingData,
  type SecuritySeverity,
} from '@cinode/contracts';
import {
  DomainError,
  FieldChecks,
  LOWER_CASE_UUID,
  NotFoundError,
  PageTokens,
  resolvePageSize,
  uuidv7,
  ValidationError,
} from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type {
  ImportFindingsRequest,
  ImportFindingsResponse,
  ListFindingsRequest,
  UpdateFindingStatusRequest,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import { ASSET_KINDS, FINDING_STATUSES, SEVERITIES, SEVERITY_RANK } from '../api/enums';
import type { SecurityConfig } from '../config';
import { ErrorReason } from '../errors';
import { RiskRepository, type SubjectRef } from '../risk/risk.repository';
import { RiskService } from '../risk/risk.service';
import { ParticipantsRepository } from '../projections/participants.repository';
import type { FindingEntity } from './finding.entity';
import { FindingsRepository } from './findings.repository';
import { parseSarif, SarifError, type SarifFinding } from './sarif';

const NODE_SERVICE = /^[a-z][a-z0-9-]{0,63}$/;
/** The tool name posture findings carry. */
export const POSTURE_TOOL = 'cinode-posture';
const ASSET_ID = /^[A-Za-z0-9._:/-]{1,128}$/;
const DAY_MS = 86_400_000;
/** Longest a risk acceptance may run. */
const MAX_ACCEPTANCE_MS = 366 * DAY_MS;

/** A finding as a scan states it, whatever its origin (a SARIF log or a posture check). */
export type ScannedFinding = Omit<SarifFinding, 'fingerprint'> & { fingerprint: string };

export function findingDataOf(f: FindingEntity): FindingData {
  return {
    findingId: f.findingId,
    version: f.version,
    assetKind: f.assetKind,
    assetId: f.assetId,
    tool: f.tool,
    ruleId: f.ruleId,
    severity: f.severity,
    status: f.status,
    dueAt: f.dueAt.toISOString(),
  };
}

export const dedupeKeyOf = (f: { tool: string; ruleId: string; fingerprint: string }): string =>
  createHash('sha256').update(`${f.tool}\u0000${f.ruleId}\u0000${f.fingerprint}`).digest('hex');

/** The risk subject an asset is, if any (the node's own services carry no participant risk). */
export function subjectOfAsset(kind: AssetKindName, id: string): SubjectRef | undefined {
  if (kind === 'participant') return { kind: 'participant', id };
  if (kind === 'pool') return { kind: 'pool', id };
  return undefined;
}

export interface UpsertOutcome {
  opened: number;
  refreshed: number;
  mitigated: number;
}

@Injectable()
export class FindingsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly findings: FindingsRepository,
    private readonly risks: RiskRepository,
    private readonly participants: ParticipantsRepository,
    private readonly risk: RiskService,
    private readonly pageTokens: PageTokens,
    @InjectConfig() private readonly config: SecurityConfig,
  ) {}

  slaDays(severity: SecuritySeverity): number {
    return {
      critical: this.config.FINDING_SLA_DAYS_CRITICAL,
      high: this.config.FINDING_SLA_DAYS_HIGH,
      medium: this.config.FINDING_SLA_DAYS_MEDIUM,
      low: this.config.FINDING_SLA_DAYS_LOW,
    }[severity];
  }

  async import(request: ImportFindingsRequest): Promise<ImportFindingsResponse> {
    const asset = await this.checkAsset(request.asset?.kind ?? 0, request.asset?.id ?? '');
    let parsed;
    try {
      parsed = parseSarif(request.document);
    } catch (error) {
      if (error instanceof SarifError)
        throw new ValidationError(
          error.violations.map((v) => ({
            field: v.field && v.field !== 'document' ? `document.${v.field}` : 'document',
            description: v.description,
          })),
        );
      throw error;
    }
    const outcome = await this.uow.run(async (tx) => {
      const result = await this.upsert(tx, asset, parsed.findings, {
        completeTools: request.completeScan ? [...new Set(parsed.findings.map((f) => f.tool))] : [],
        endpointId: null,
      });
      tx.objectId = `${asset.kind}:${asset.id}`.slice(0, 128);
      return result;
    });
    return {
      ...outcome,
      suppressed: parsed.skipped.suppressed,
      notFailing: parsed.skipped.notFailing,
    };
  }

  /**
   * Records what a scan found on one asset: new findings open, open ones are refreshed, mitigated
   * ones found again reopen; with `completeTools`, open findings of those tools the scan no longer
   * found are mitigated (and with `endpointId`, those of that endpoint's posture checks). The
   * asset's risk follows in the same transaction.
   */
  async upsert(
    tx: Tx,
    asset: { kind: AssetKindName; id: string },
    scanned: readonly ScannedFinding[],
    options: {
      completeTools: readonly string[];
      endpointId: string | null;
      /** A posture check's address: its open findings there the check no longer found close. */
      postureAddress?: string;
    },
    now = new Date(),
  ): Promise<UpsertOutcome> {
    await this.findings.lockAsset(tx, asset.kind, asset.id);
    const byKey = new Map<string, ScannedFinding>();
    for (const f of scanned) byKey.set(dedupeKeyOf(f), f);
    const existing = new Map(
      (await this.findings.lockByKeys(tx, asset.kind, asset.id, [...byKey.keys()])).map((f) => [
        f.dedupeKey,
        f,
      ]),
    );
    const fresh: FindingEntity[] = [];
    const changed: FindingEntity[] = [];
    const touched: string[] = [];
    const events: EventMessage[] = [];
    let opened = 0;
    let refreshed = 0;
    for (const [key, f] of byKey) {
      const before = existing.get(key);
      if (!before) {
        const row: FindingEntity = {
          findingId: uuidv7(),
          assetKind: asset.kind,
          assetId: asset.id,
          dedupeKey: key,
          tool: f.tool,
          ruleId: f.ruleId,
          title: f.title,
          message: f.message,
          severity: f.severity,
          cvssScore: f.cvssScore ?? null,
          cveIds: f.cveIds,
          location: f.location,
          helpUri: f.helpUri,
          endpointId: options.endpointId,
          status: 'open',
          firstSeenAt: now,
          lastSeenAt: now,
          dueAt: new Date(now.getTime() + this.slaDays(f.severity) * DAY_MS),
          acceptedUntil: null,
          version: 1,
          note: '',
          updatedAt: now,
        };
        fresh.push(row);
        events.push(eventOf(FindingOpened, findingDataOf(row)));
        opened += 1;
        continue;
      }
      if (before.status === 'mitigated') {
        const next: FindingEntity = {
          ...before,
          status: 'open',
          severity: f.severity,
          message: f.message,
          lastSeenAt: now,
          dueAt: new Date(now.getTime() + this.slaDays(f.severity) * DAY_MS),
          version: before.version + 1,
          note: 'found again',
          updatedAt: now,
        };
        changed.push(next);
        events.push(eventOf(FindingOpened, findingDataOf(next)));
        opened += 1;
      } else if (before.severity !== f.severity) {
        const next: FindingEntity = {
          ...before,
          severity: f.severity,
          message: f.message,
          lastSeenAt: now,
          version: before.version + 1,
          updatedAt: now,
        };
        changed.push(next);
        events.push(eventOf(FindingUpdated, findingDataOf(next)));
        refreshed += 1;
      } else {
        touched.push(before.findingId);
        refreshed += 1;
      }
    }
    await this.findings.insertMany(tx, fresh);
    await this.findings.touch(tx, touched, now);
    let mitigated = 0;
    const stale = [
      ...(options.completeTools.length > 0
        ? await this.findings.lockOpenOfTools(tx, asset.kind, asset.id, options.completeTools)
        : []),
      ...(options.postureAddress !== undefined
        ? await this.findings.lockOpenAtLocation(
            tx,
            asset.kind,
            asset.id,
            POSTURE_TOOL,
            options.postureAddress,
          )
        : []),
    ];
    const closed = new Set<string>();
    for (const f of stale) {
      if (byKey.has(f.dedupeKey) || closed.has(f.findingId)) continue;
      closed.add(f.findingId);
      const next: FindingEntity = {
        ...f,
        status: 'mitigated',
        note: 'no longer found by a complete scan',
        version: f.version + 1,
        updatedAt: now,
      };
      changed.push(next);
      events.push(eventOf(FindingUpdated, findingDataOf(next)));
      mitigated += 1;
    }
    await this.findings.saveMany(tx, changed);
    if (events.length > 0) await tx.emit(...events);
    const subject = subjectOfAsset(asset.kind, asset.id);
    if (subject) await this.risk.reassess(tx, [subject], now);
    return { opened, refreshed, mitigated };
  }

  /** The asset a request names, known to the node; INVALID_ARGUMENT or NOT_FOUND otherwise. */
  async checkAsset(kindValue: number, id: string): Promise<{ kind: AssetKindName; id: string }> {
    const kind = ASSET_KINDS.name(kindValue);
    const checks = new FieldChecks();
    if (!kind) checks.add('asset.kind', 'must be NODE_SERVICE, PARTICIPANT or POOL');
    checks.text('asset.id', id, {
      max: 128,
      pattern: kind === 'node_service' ? NODE_SERVICE : ASSET_ID,
      patternHint: kind === 'node_service' ? 'must be a service name' : 'must be an id',
    });
    checks.throwIfAny();
    const known =
      kind === 'node_service' ||
      (kind === 'pool' && (await this.risks.providerOf(undefined, id)) !== undefined) ||
      (kind === 'participant' && (await this.participants.exists(id)));
    if (!known)
      throw new NotFoundError(ErrorReason.ASSET_NOT_FOUND, `the node knows no ${kind} ${id}`);
    return { kind, id };
  }

  async list(
    caller: Caller,
    request: ListFindingsRequest,
  ): Promise<{ findings: FindingEntity[]; nextPageToken: string }> {
    const checks = new FieldChecks();
    const assetKind = request.assetKind ? ASSET_KINDS.name(request.assetKind) : undefined;
    if (request.assetKind && !assetKind) checks.add('asset_kind', 'is not a known kind');
    if (request.assetId && !assetKind) checks.add('asset_id', 'needs asset_kind');
    checks.text('asset_id', request.assetId, { required: false, max: 128 });
    const status = request.status ? FINDING_STATUSES.name(request.status) : undefined;
    if (request.status && !status) checks.add('status', 'is not a known status');
    const minSeverity = request.minSeverity ? SEVERITIES.name(request.minSeverity) : undefined;
    if (request.minSeverity && !minSeverity) checks.add('min_severity', 'is not a known severity');
    checks.throwIfAny();
    const limit = resolvePageSize(request.pageSize);
    let assets: { kind: AssetKindName; ids: string[] }[] | undefined;
    if (!hasRole(caller, 'operator', 'regulator', 'service')) {
      const pools = await this.uow.run((tx) => this.risks.poolsOf(tx, caller.tenant));
      assets = [
        { kind: 'participant', ids: [caller.tenant] },
        { kind: 'pool', ids: pools },
      ];
    }
    const filter = {
      assetKind,
      assetId: request.assetId || undefined,
      assets,
      status,
      severities: minSeverity
        ? (Object.keys(SEVERITY_RANK) as SecuritySeverity[]).filter(
            (s) => SEVERITY_RANK[s] >= SEVERITY_RANK[minSeverity],
          )
        : undefined,
      overdueOnly: request.overdueOnly,
    };
    const filterKey = `findings:${JSON.stringify({ ...filter, assets: assets ? caller.tenant : '' })}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.findings.list(filter, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      findings: page,
      nextPageToken:
        rows.length > limit && last
          ? this.pageTokens.encode(
              { after: last.firstSeenAt.toISOString(), afterId: last.findingId },
              filterKey,
            )
          : '',
    };
  }

  async updateStatus(caller: Caller, request: UpdateFindingStatusRequest): Promise<FindingEntity> {
    const now = new Date();
    const checks = new FieldChecks()
      .text('finding_id', request.findingId, {
        max: 36,
        pattern: LOWER_CASE_UUID,
        patternHint: 'must be a lower-case LOWER_CASE_UUID',
      })
      .text('note', request.note, { required: false, max: 1000 });
    const status = FINDING_STATUSES.name(request.status);
    if (!status) checks.add('status', 'must be a status');
    if ((status === 'false_positive' || status === 'risk_accepted') && request.note.trim() === '')
      checks.add('note', `is required for ${status}`);
    checks.timestamp('accepted_until', request.acceptedUntil, {
      required: status === 'risk_accepted',
    });
    const acceptedUntil = request.acceptedUntil ? fromTimestamp(request.acceptedUntil) : null;
    if (status === 'risk_accepted' && acceptedUntil) {
      if (acceptedUntil <= now) checks.add('accepted_until', 'must be in the future');
      else if (acceptedUntil.getTime() - now.getTime() > MAX_ACCEPTANCE_MS)
        checks.add('accepted_until', 'must be at most 366 days ahead');
    } else if (acceptedUntil) checks.add('accepted_until', 'is only for RISK_ACCEPTED');
    if (!Number.isSafeInteger(request.expectedVersion) || request.expectedVersion < 0)
      checks.add('expected_version', 'must be a whole number, 0 or more');
    checks.throwIfAny();
    return this.uow.run(async (tx) => {
      const finding = await this.findings.lock(tx, request.findingId);
      if (!finding)
        throw new NotFoundError(
          ErrorReason.FINDING_NOT_FOUND,
          `finding ${request.findingId} does not exist`,
        );
      if (request.expectedVersion !== 0 && request.expectedVersion !== finding.version)
        throw new DomainError(
          'ABORTED',
          ErrorReason.VERSION_MISMATCH,
          `finding is at version ${finding.version}, not ${request.expectedVersion}; read it again`,
          { metadata: { current_version: String(finding.version) } },
        );
      if (
        finding.status === status &&
        (finding.acceptedUntil?.getTime() ?? null) === (acceptedUntil?.getTime() ?? null) &&
        finding.note === request.note
      )
        return finding;
      const next: FindingEntity = {
        ...finding,
        status: status!,
        acceptedUntil: status === 'risk_accepted' ? acceptedUntil : null,
        note: request.note || `${status} by ${caller.subject}`.slice(0, 1000),
        dueAt:
          status === 'open' && finding.status !== 'open' && finding.status !== 'verified'
            ? new Date(now.getTime() + this.slaDays(finding.severity) * DAY_MS)
            : finding.dueAt,
        version: finding.version + 1,
        updatedAt: now,
      };
      await this.findings.save(tx, next);
      await tx.emit(eventOf(FindingUpdated, findingDataOf(next)));
      const subject = subjectOfAsset(next.assetKind, next.assetId);
      if (subject) await this.risk.reassess(tx, [subject], now);
      return next;
    });
  }

  /** Reopens findings whose risk acceptance ran out; returns how many. */
  async reopenLapsed(now = new Date(), limit = 200): Promise<number> {
    return this.uow.run(async (tx) => {
      const lapsed = await this.findings.lockLapsedAcceptances(tx, now, limit);
      const subjects: SubjectRef[] = [];
      const reopened = lapsed.map(
        (f): FindingEntity => ({
          ...f,
          status: 'open',
          note: `risk acceptance lapsed at ${f.acceptedUntil?.toISOString() ?? ''}`,
          acceptedUntil: null,
          version: f.version + 1,
          updatedAt: now,
        }),
      );
      await this.findings.saveMany(tx, reopened);
      if (reopened.length > 0)
        await tx.emit(...reopened.map((next) => eventOf(FindingUpdated, findingDataOf(next))));
      for (const f of lapsed) {
        const subject = subjectOfAsset(f.assetKind, f.assetId);
        if (subject) subjects.push(subject);
      }
      await this.risk.reassess(tx, subjects, now);
      return lapsed.length;
    });
  }
}
