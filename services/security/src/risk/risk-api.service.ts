import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import type { RiskLevelName, RiskSubjectKind } from '@cinode/contracts';
import {
  FailedPreconditionError,
  FieldChecks,
  LOWER_CASE_UUID,
  NotFoundError,
  PageTokens,
  Periodic,
  resolvePageSize,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type {
  GetRiskRequest,
  LiftQuarantineRequest,
  ListQuarantinesRequest,
  ListRisksRequest,
  ConfirmQuarantineRequest,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import { QUARANTINE_STATES, RISK_LEVELS, RISK_LEVEL_RANK, SUBJECT_KINDS } from '../api/enums';
import type { SecurityConfig } from '../config';
import { ErrorReason } from '../errors';
import { FindingsService } from '../findings/findings.service';
import { QuarantineEntity } from './quarantine.entity';
import { RiskEntity } from './risk.entity';
import { RiskRepository, type SubjectRef } from './risk.repository';
import { RiskService } from './risk.service';

const SUBJECT_ID = /^[A-Za-z0-9._:/-]{1,128}$/;
/** Subjects one time-driven round assesses per transaction. */
const REASSESS_BATCH = 100;

/**
 * Reading risk, operators' quarantine decisions, and the time-driven round: every
 * RISK_REASSESS_INTERVAL_MS, lapsed risk acceptances reopen and every subject with a score is
 * assessed again (attacks leave the window, findings become overdue).
 */
@Injectable()
export class RiskApiService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RiskApiService.name);
  private readonly periodic: Periodic;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly risks: RiskRepository,
    private readonly risk: RiskService,
    private readonly findings: FindingsService,
    private readonly pageTokens: PageTokens,
    @InjectConfig() config: SecurityConfig,
  ) {
    this.periodic = new Periodic(
      'risk reassessment',
      config.RISK_REASSESS_INTERVAL_MS,
      () => this.reassessOverTime(),
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.periodic.stop();
  }

  async reassessOverTime(now = new Date()): Promise<void> {
    while ((await this.findings.reopenLapsed(now)) > 0);
    let after: SubjectRef | undefined;
    for (;;) {
      const batch = await this.risks.scoredSubjects(REASSESS_BATCH, after);
      if (batch.length === 0) return;
      await this.uow.run((tx) => this.risk.reassess(tx, batch, now));
      after = batch.at(-1);
    }
  }

  async get(caller: Caller, request: GetRiskRequest): Promise<RiskEntity> {
    const kind = SUBJECT_KINDS.name(request.subjectKind);
    const checks = new FieldChecks();
    if (!kind) checks.add('subject_kind', 'must be PARTICIPANT or POOL');
    checks.text('subject_id', request.subjectId, {
      max: 128,
      pattern: SUBJECT_ID,
      patternHint: 'must be an id',
    });
    checks.throwIfAny();
    const risk = await this.risks.find(undefined, { kind: kind!, id: request.subjectId });
    const notFound = () =>
      new NotFoundError(
        ErrorReason.RISK_NOT_FOUND,
        `${kind} ${request.subjectId} has no assessed risk`,
      );
    if (!hasRole(caller, 'operator', 'regulator', 'service')) {
      // A participant reads its own risk and its pools'; to it anyone else's is absent.
      const own =
        kind === 'participant'
          ? request.subjectId === caller.tenant
          : (await this.risks.providerOf(undefined, request.subjectId)) === caller.tenant;
      if (!own) throw notFound();
    }
    if (!risk) throw notFound();
    return risk;
  }

  async list(request: ListRisksRequest): Promise<{ risks: RiskEntity[]; nextPageToken: string }> {
    const checks = new FieldChecks();
    const kind = request.subjectKind ? SUBJECT_KINDS.name(request.subjectKind) : undefined;
    if (request.subjectKind && !kind) checks.add('subject_kind', 'is not a known kind');
    const minLevel = request.minLevel ? RISK_LEVELS.name(request.minLevel) : undefined;
    if (request.minLevel && !minLevel) checks.add('min_level', 'is not a known level');
    checks.throwIfAny();
    const limit = resolvePageSize(request.pageSize);
    const filterKey = `risks:${kind ?? ''}:${minLevel ?? ''}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const query = this.uow.manager().getRepository(RiskEntity).createQueryBuilder('r');
    if (kind) query.andWhere('r.subject_kind = :kind', { kind });
    if (minLevel)
      query.andWhere('r.level = ANY(:levels)', {
        levels: (Object.keys(RISK_LEVEL_RANK) as RiskLevelName[]).filter(
          (l) => RISK_LEVEL_RANK[l] >= RISK_LEVEL_RANK[minLevel],
        ),
      });
    if (after) {
      const [kindAfter, ...idAfter] = after.afterId.split(':');
      query.andWhere(
        '(r.score < :score OR (r.score = :score AND (r.subject_kind, r.subject_id) > (:kindAfter, :idAfter)))',
        { score: Number(after.after), kindAfter, idAfter: idAfter.join(':') },
      );
    }
    const rows = await query
      .orderBy('r.score', 'DESC')
      .addOrderBy('r.subject_kind', 'ASC')
      .addOrderBy('r.subject_id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      risks: page,
      nextPageToken:
        rows.length > limit && last
          ? this.pageTokens.encode(
              { after: String(last.score), afterId: `${last.subjectKind}:${last.subjectId}` },
              filterKey,
            )
          : '',
    };
  }

  async listQuarantines(
    request: ListQuarantinesRequest,
  ): Promise<{ quarantines: QuarantineEntity[]; nextPageToken: string }> {
    const state = request.state ? QUARANTINE_STATES.name(request.state) : undefined;
    if (request.state && !state)
      new FieldChecks().add('state', 'is not a known state').throwIfAny();
    const limit = resolvePageSize(request.pageSize);
    const filterKey = `quarantines:${state ?? ''}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const query = this.uow.manager().getRepository(QuarantineEntity).createQueryBuilder('q');
    if (state) query.andWhere('q.state = :state', { state });
    if (after)
      query.andWhere('(q.started_at, q.quarantine_id) < (:afterTime, :afterId)', {
        afterTime: after.after,
        afterId: after.afterId,
      });
    const rows = await query
      .orderBy('q.started_at', 'DESC')
      .addOrderBy('q.quarantine_id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      quarantines: page,
      nextPageToken:
        rows.length > limit && last
          ? this.pageTokens.encode(
              { after: last.startedAt.toISOString(), afterId: last.quarantineId },
              filterKey,
            )
          : '',
    };
  }

  confirm(caller: Caller, request: ConfirmQuarantineRequest): Promise<QuarantineEntity> {
    return this.decide(caller, request.quarantineId, request.reason, 'confirmed');
  }

  lift(caller: Caller, request: LiftQuarantineRequest): Promise<QuarantineEntity> {
    return this.decide(caller, request.quarantineId, request.reason, 'lifted');
  }

  private async decide(
    caller: Caller,
    quarantineId: string,
    reason: string,
    target: 'confirmed' | 'lifted',
  ): Promise<QuarantineEntity> {
    new FieldChecks()
      .text('quarantine_id', quarantineId, {
        max: 36,
        pattern: LOWER_CASE_UUID,
        patternHint: 'must be a lower-case LOWER_CASE_UUID',
      })
      .text('reason', reason.trim(), { required: target === 'lifted', max: 500 })
      .throwIfAny();
    return this.uow.run(async (tx) => {
      // The subject's lock (a pool's provider's first) before the quarantine's row: the order
      // assessment takes them in.
      const subject = await this.risks.quarantineSubject(quarantineId);
      const provider =
        subject?.kind === 'pool' ? await this.risks.providerOf(tx, subject.id) : undefined;
      if (provider) await this.risks.lockSubject(tx, { kind: 'participant', id: provider });
      if (subject) await this.risks.lockSubject(tx, subject);
      const quarantine = await this.risks.lockQuarantine(tx, quarantineId);
      if (!quarantine)
        throw new NotFoundError(
          ErrorReason.QUARANTINE_NOT_FOUND,
          `quarantine ${quarantineId} does not exist`,
        );
      const allowed =
        target === 'confirmed' ? quarantine.state === 'active' : quarantine.state !== 'lifted';
      if (!allowed)
        throw new FailedPreconditionError(
          ErrorReason.INVALID_TRANSITION,
          `a quarantine that is ${quarantine.state} cannot be ${target}`,
          { metadata: { current_state: quarantine.state } },
        );
      const next: QuarantineEntity = {
        ...quarantine,
        state: target,
        reason: (reason.trim() || quarantine.reason).slice(0, 500),
        actor: caller.subject.slice(0, 128),
        updatedAt: new Date(),
        version: quarantine.version + 1,
      };
      await this.risk.saveQuarantine(tx, next);
      // The subject's risk record (and a participant's pools) carry the quarantine: assess again.
      const kind: RiskSubjectKind = next.subjectKind;
      await this.risk.reassess(tx, [{ kind, id: next.subjectId }]);
      return next;
    });
  }
}
