import { Injectable } from '@nestjs/common';
import type { RiskSubjectKind, SecuritySeverity } from '@cinode/contracts';
import { UnitOfWork, type Tx } from '@cinode/database';
import type { AttackCount, FindingCount } from './risk-score';
import { QuarantineEntity } from './quarantine.entity';
import { RiskEntity } from './risk.entity';

/** A participant or pool. */
export interface SubjectRef {
  kind: RiskSubjectKind;
  id: string;
}

export const subjectKey = (s: SubjectRef): string => `${s.kind}:${s.id}`;

/** Every query of risk and quarantine. */
@Injectable()
export class RiskRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Serialises assessments of one subject to the end of the transaction. */
  async lockSubject(tx: Tx, subject: SubjectRef): Promise<void> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 40411))`, [
      subjectKey(subject),
    ]);
  }

  async findingCounts(tx: Tx, subject: SubjectRef): Promise<FindingCount[]> {
    const rows = await tx.manager.query<
      Array<{ severity: SecuritySeverity; overdue: boolean; count: number }>
    >(
      `SELECT severity, (due_at < now()) AS overdue, count(*)::int AS count
         FROM finding
        WHERE asset_kind = $1 AND asset_id = $2 AND status IN ('open', 'verified')
        GROUP BY 1, 2`,
      [subject.kind, subject.id],
    );
    return rows;
  }

  async attackCounts(tx: Tx, subject: SubjectRef, windowMs: number): Promise<AttackCount[]> {
    const column = subject.kind === 'pool' ? 'pool_id' : 'participant_id';
    return tx.manager.query<AttackCount[]>(
      `SELECT severity, ongoing, count(*)::int AS count
         FROM attack_event
        WHERE ${column} = $1 AND state <> 'false_positive'
          AND attack_time > now() - make_interval(secs => $2::double precision / 1000)
        GROUP BY 1, 2`,
      [subject.id, windowMs],
    );
  }

  async certificationState(tx: Tx, participantId: string): Promise<string | undefined> {
    const rows = await tx.manager.query<Array<{ state: string }>>(
      `SELECT state FROM participant_standing WHERE participant_id = $1`,
      [participantId],
    );
    return rows[0]?.state;
  }

  async providerOf(tx: Tx | undefined, poolId: string): Promise<string | undefined> {
    const rows = await this.uow
      .manager(tx)
      .query<
        Array<{ provider: string }>
      >(`SELECT provider_participant_id AS provider FROM known_pool WHERE pool_id = $1`, [poolId]);
    return rows[0]?.provider;
  }

  async poolsOf(tx: Tx, providerParticipantId: string): Promise<string[]> {
    const rows = await tx.manager.query<Array<{ pool_id: string }>>(
      `SELECT pool_id FROM known_pool WHERE provider_participant_id = $1 ORDER BY pool_id`,
      [providerParticipantId],
    );
    return rows.map((r) => r.pool_id);
  }

  async find(tx: Tx | undefined, subject: SubjectRef): Promise<RiskEntity | undefined> {
    return (
      (await this.uow
        .manager(tx)
        .getRepository(RiskEntity)
        .findOneBy({ subjectKind: subject.kind, subjectId: subject.id })) ?? undefined
    );
  }

  async save(tx: Tx, risk: RiskEntity): Promise<void> {
    await tx.manager.getRepository(RiskEntity).save(risk);
  }

  /** Subjects whose score may fall or rise with time alone (anything scored at all), in key order. */
  async scoredSubjects(limit: number, after: SubjectRef | undefined): Promise<SubjectRef[]> {
    return this.uow.manager().query<SubjectRef[]>(
      `SELECT subject_kind AS kind, subject_id AS id FROM risk
        WHERE score > 0 AND (subject_kind, subject_id) > ($1, $2)
        ORDER BY subject_kind, subject_id LIMIT $3`,
      [after?.kind ?? '', after?.id ?? '', limit],
    );
  }

  /** Whose a quarantine is (no lock: a quarantine's subject never changes). */
  async quarantineSubject(quarantineId: string): Promise<SubjectRef | undefined> {
    const rows = await this.uow
      .manager()
      .query<
        SubjectRef[]
      >(`SELECT subject_kind AS kind, subject_id AS id FROM quarantine WHERE quarantine_id = $1`, [quarantineId]);
    return rows[0];
  }

  async openQuarantine(
    tx: Tx | undefined,
    subject: SubjectRef,
  ): Promise<QuarantineEntity | undefined> {
    return (
      (await this.uow
        .manager(tx)
        .getRepository(QuarantineEntity)
        .createQueryBuilder('q')
        .where('q.subject_kind = :kind AND q.subject_id = :id AND q.state <> :lifted', {
          kind: subject.kind,
          id: subject.id,
          lifted: 'lifted',
        })
        .getOne()) ?? undefined
    );
  }

  async lockQuarantine(tx: Tx, quarantineId: string): Promise<QuarantineEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(QuarantineEntity)
        .createQueryBuilder('q')
        .setLock('pessimistic_write')
        .where('q.quarantine_id = :quarantineId', { quarantineId })
        .getOne()) ?? undefined
    );
  }

  async saveQuarantine(tx: Tx, quarantine: QuarantineEntity): Promise<void> {
    await tx.manager.getRepository(QuarantineEntity).save(quarantine);
  }

  /** Participants with a quarantine not lifted: what the quarantine bucket must hold. */
  async quarantinedParticipants(tx?: Tx): Promise<Map<string, QuarantineEntity>> {
    const rows = await this.uow
      .manager(tx)
      .getRepository(QuarantineEntity)
      .createQueryBuilder('q')
      .where(`q.subject_kind = 'participant' AND q.state <> 'lifted'`)
      .getMany();
    return new Map(rows.map((q) => [q.subjectId, q]));
  }
}
