import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import {
  FieldChecks,
  NotFoundError,
  PageTokens,
  Periodic,
  PermissionDeniedError,
  ResourceExhaustedError,
  resolvePageSize,
  sanitizeText,
  uuidv7,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type {
  ListEndpointsRequest,
  RegisterEndpointRequest,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { SecurityConfig } from '../config';
import { ErrorReason } from '../errors';
import {
  FindingsService,
  POSTURE_TOOL,
  type ScannedFinding,
  type UpsertOutcome,
} from '../findings/findings.service';
import { ParticipantsRepository } from '../projections/participants.repository';
import { parsePostureTarget, type PostureTarget } from '../posture/posture-target';
import { probeEndpoint, type PostureResult } from '../posture/posture-probe';
import type { EndpointEntity, StoredPostureResult } from './endpoint.entity';
import { EndpointsRepository } from './endpoints.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Checks a scheduled round runs at once. */
const CONCURRENCY = 2;

/** `host:port` with the host in lower case and an IPv6 address in brackets. */
export function canonicalAddress(target: PostureTarget): string {
  const host = target.host.toLowerCase();
  return host.includes(':') ? `[${host}]:${target.port}` : `${host}:${target.port}`;
}

/**
 * Text the probed server chose (certificate names, reflected service names, errors) made safe for
 * Postgres and bounded: controls (Postgres refuses NUL in text and jsonb) and lone surrogates
 * replaced, at most `max` characters.
 */
export function remoteText(text: string | undefined, max: number): string {
  return sanitizeText(text ?? '', max);
}

/** Most issues one result keeps (there are nine checks). */
const MAX_ISSUES = 20;

export function storedResultOf(result: PostureResult): StoredPostureResult {
  return {
    reachable: result.reachable,
    error: remoteText(result.error, 1_000),
    tlsVersion: remoteText(result.tlsVersion, 32),
    certificateSubject: remoteText(result.certificate?.subject, 500),
    certificateIssuer: remoteText(result.certificate?.issuer, 500),
    certificateNotAfter: result.certificate?.validTo.toISOString() ?? '',
    issues: result.issues.slice(0, MAX_ISSUES).map((i) => ({
      check: i.check,
      severity: i.severity,
      message: remoteText(i.message, 1_000),
    })),
    checkedAt: result.checkedAt.toISOString(),
  };
}

/** A token bucket: `perMinute` checks a minute, a quarter of them at once. */
export class CheckBudget {
  private tokens: number;
  private at = Date.now();
  private readonly capacity: number;

  constructor(private readonly perMinute: number) {
    this.capacity = Math.max(1, Math.floor(perMinute / 4));
    this.tokens = this.capacity;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.at) / 60_000) * this.perMinute,
    );
    this.at = now;
  }

  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Seconds until a token is there. */
  waitSeconds(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 60) / this.perMinute));
  }
}

/**
 * Participants' endpoints and the node's posture checks of them. A check connects from this
 * replica (bounded by POSTURE_TIMEOUT_MS per connection and POSTURE_RATE_PER_MINUTE), then records
 * in one transaction: the result on the endpoint, each issue as a finding on the participant
 * (tool `cinode-posture`, rule = the check), and the endpoint's earlier issues no longer found as
 * mitigated. An unreachable endpoint changes no finding.
 */
@Injectable()
export class EndpointsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EndpointsService.name);
  private readonly budget: CheckBudget;
  private readonly periodic: Periodic | undefined;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly endpoints: EndpointsRepository,
    private readonly participants: ParticipantsRepository,
    private readonly findings: FindingsService,
    private readonly pageTokens: PageTokens,
    @InjectConfig() private readonly config: SecurityConfig,
  ) {
    this.budget = new CheckBudget(config.POSTURE_RATE_PER_MINUTE);
    if (config.POSTURE_INTERVAL_MS > 0)
      this.periodic = new Periodic(
        'scheduled posture checks',
        Math.min(60_000, config.POSTURE_INTERVAL_MS),
        () => this.checkDue(),
        this.logger,
      );
  }

  onApplicationBootstrap(): void {
    this.periodic?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.periodic?.stop();
  }

  async register(
    caller: Caller,
    request: RegisterEndpointRequest,
  ): Promise<{ endpoint: EndpointEntity; created: boolean }> {
    const isOperator = hasRole(caller, 'operator');
    const participantId = request.participantId || (isOperator ? '' : caller.tenant);
    const checks = new FieldChecks()
      .text('participant_id', participantId, { max: 128 })
      .text('purpose', request.purpose.trim(), { required: false, max: 200 });
    let target: PostureTarget | undefined;
    try {
      target = parsePostureTarget(request.address);
    } catch (error) {
      checks.add('address', error instanceof Error ? error.message : 'is not host:port');
    }
    checks.throwIfAny();
    if (!isOperator && participantId !== caller.tenant)
      throw new PermissionDeniedError(
        ErrorReason.NOT_YOUR_PARTICIPANT,
        'a participant registers endpoints for itself only',
      );
    if (isOperator && !(await this.participants.exists(participantId)))
      throw new NotFoundError(
        ErrorReason.ASSET_NOT_FOUND,
        `the node knows no participant ${participantId}`,
      );
    const address = canonicalAddress(target!);
    return this.uow.run(async (tx) => {
      const count = await this.endpoints.countOf(tx, participantId);
      const existing = await this.endpoints.findByAddress(tx, participantId, address);
      if (existing) {
        tx.objectId = existing.endpointId;
        return { endpoint: existing, created: false };
      }
      if (count >= this.config.MAX_ENDPOINTS_PER_PARTICIPANT)
        throw new ResourceExhaustedError(
          ErrorReason.ENDPOINT_QUOTA_EXCEEDED,
          `the participant has ${count} endpoints, the most this node takes`,
        );
      const now = new Date();
      const endpoint: EndpointEntity = {
        endpointId: uuidv7(),
        participantId,
        address,
        purpose: request.purpose.trim(),
        createdBy: caller.subject,
        createdAt: now,
        nextCheckAt: now,
        lastResult: null,
      };
      await this.endpoints.insert(tx, endpoint);
      tx.objectId = endpoint.endpointId;
      return { endpoint, created: true };
    });
  }

  async list(
    caller: Caller,
    request: ListEndpointsRequest,
  ): Promise<{ endpoints: EndpointEntity[]; nextPageToken: string }> {
    new FieldChecks()
      .text('participant_id', request.participantId, { required: false, max: 128 })
      .throwIfAny();
    const limit = resolvePageSize(request.pageSize);
    const participantId = hasRole(caller, 'operator', 'regulator', 'service')
      ? request.participantId || undefined
      : caller.tenant;
    const filterKey = `endpoints:${participantId ?? ''}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.endpoints.list(participantId, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      endpoints: page,
      nextPageToken:
        rows.length > limit && last
          ? this.pageTokens.encode(
              { after: last.createdAt.toISOString(), afterId: last.endpointId },
              filterKey,
            )
          : '',
    };
  }

  /**
   * Removes an endpoint. Its owner may remove what it registered itself, an operator anything. An
   * operator's removal closes the endpoint's posture findings (mitigated); a participant's leaves
   * them open, so dropping an endpoint is no way to shed findings (they continue if the address is
   * registered again, and an operator closes them).
   */
  async remove(caller: Caller, endpointId: string): Promise<void> {
    this.checkId(endpointId);
    const isOperator = hasRole(caller, 'operator');
    await this.uow.run(async (tx) => {
      const endpoint = await this.endpoints.lock(tx, endpointId);
      if (!endpoint || (!isOperator && endpoint.participantId !== caller.tenant))
        throw this.notFound(endpointId);
      if (!isOperator && endpoint.createdBy !== caller.subject)
        throw new PermissionDeniedError(
          ErrorReason.NOT_YOUR_PARTICIPANT,
          'the node operator registered this endpoint; only an operator removes it',
        );
      if (isOperator)
        await this.findings.upsert(tx, { kind: 'participant', id: endpoint.participantId }, [], {
          completeTools: [],
          endpointId,
          postureAddress: endpoint.address,
        });
      await this.endpoints.delete(tx, endpointId);
    });
  }

  /** Checks one endpoint now (operators); RESOURCE_EXHAUSTED beyond the rate. */
  async checkNow(endpointId: string): Promise<{ endpoint: EndpointEntity } & UpsertOutcome> {
    this.checkId(endpointId);
    const endpoint = await this.endpoints.find(endpointId);
    if (!endpoint) throw this.notFound(endpointId);
    if (!this.budget.take())
      throw new ResourceExhaustedError(
        ErrorReason.POSTURE_RATE_LIMITED,
        `posture checks are limited to ${this.config.POSTURE_RATE_PER_MINUTE} a minute; retry later`,
        { retryAfterSeconds: this.budget.waitSeconds() },
      );
    return this.check(endpoint);
  }

  /** One scheduled round: the endpoints due, as many as the rate allows, two at a time. */
  async checkDue(): Promise<number> {
    const due = await this.endpoints.claimDue(
      this.budget.available(),
      this.config.POSTURE_INTERVAL_MS,
    );
    let done = 0;
    const queue = [...due];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        if (!this.budget.take()) return;
        try {
          await this.check(next);
          done += 1;
        } catch (error) {
          this.logger.warn(
            { err: error, endpointId: next.endpointId },
            'posture check not recorded',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return done;
  }

  private async check(
    endpoint: EndpointEntity,
  ): Promise<{ endpoint: EndpointEntity } & UpsertOutcome> {
    const result = await probeEndpoint(endpoint.address, {
      timeoutMs: this.config.POSTURE_TIMEOUT_MS,
      allowPrivateAddresses: this.config.POSTURE_ALLOW_PRIVATE_ADDRESSES,
      expiryWarningDays: this.config.POSTURE_EXPIRY_WARNING_DAYS,
    });
    const stored = storedResultOf(result);
    return this.uow.run(async (tx) => {
      // The endpoint may have been removed while it was probed.
      const current = await this.endpoints.lock(tx, endpoint.endpointId);
      if (!current) throw this.notFound(endpoint.endpointId);
      await this.endpoints.recordResult(tx, endpoint.endpointId, stored);
      const next = { ...current, lastResult: stored };
      if (!result.reachable) return { endpoint: next, opened: 0, refreshed: 0, mitigated: 0 };
      const scanned: ScannedFinding[] = stored.issues.map((issue) => ({
        tool: POSTURE_TOOL,
        toolVersion: '1',
        ruleId: issue.check,
        title: issue.check.toLowerCase().replaceAll('_', ' '),
        message: issue.message,
        severity: issue.severity as ScannedFinding['severity'],
        cveIds: [],
        location: endpoint.address,
        // By address: an endpoint removed and registered again continues its findings.
        fingerprint: endpoint.address,
        helpUri: '',
      }));
      const outcome = await this.findings.upsert(
        tx,
        { kind: 'participant', id: endpoint.participantId },
        scanned,
        { completeTools: [], endpointId: endpoint.endpointId, postureAddress: endpoint.address },
      );
      tx.objectId = endpoint.endpointId;
      return { endpoint: next, ...outcome };
    });
  }

  private checkId(endpointId: string): void {
    new FieldChecks()
      .text('endpoint_id', endpointId, {
        max: 36,
        pattern: UUID,
        patternHint: 'must be a lower-case UUID',
      })
      .throwIfAny();
  }

  private notFound(endpointId: string): NotFoundError {
    return new NotFoundError(
      ErrorReason.ENDPOINT_NOT_FOUND,
      `endpoint ${endpointId} does not exist`,
    );
  }
}
