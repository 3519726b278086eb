import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PagePosition } from '@cinode/common';
import { OutboxPublisher } from '@cinode/events';
import { DataSource, type EntityManager } from 'typeorm';
import { ParticipantEntity } from '../participants/participant.entity';
import { inTransaction, type EventSink } from '../transaction';
import { QualificationEntity } from './qualification.entity';

export interface QualificationsTx extends EventSink {
  findParticipant(id: string): Promise<ParticipantEntity | undefined>;
  insertIfAbsent(qualification: QualificationEntity): Promise<boolean>;
  lockById(id: string): Promise<QualificationEntity | undefined>;
  save(qualification: QualificationEntity): Promise<void>;
  /** Expired qualifications whose expiry is not recorded yet, locked, skipping rows another replica holds. */
  claimExpired(now: Date, limit: number): Promise<QualificationEntity[]>;
}

class TypeOrmQualificationsTx implements QualificationsTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly sink: EventSink,
  ) {}

  emit: EventSink['emit'] = (events) => this.sink.emit(events);

  async findParticipant(id: string): Promise<ParticipantEntity | undefined> {
    // FOR SHARE: a suspension or revocation cannot commit between the check and the grant.
    const row = await this.manager
      .getRepository(ParticipantEntity)
      .createQueryBuilder('p')
      .setLock('pessimistic_read')
      .where('p.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async insertIfAbsent(qualification: QualificationEntity): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .insert()
      .into(QualificationEntity)
      .values(qualification)
      .orIgnore()
      .returning(['id'])
      .execute();
    return Array.isArray(result.raw) && result.raw.length > 0;
  }

  async lockById(id: string): Promise<QualificationEntity | undefined> {
    const row = await this.manager
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .setLock('pessimistic_write')
      .where('q.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async save(qualification: QualificationEntity): Promise<void> {
    await this.manager.getRepository(QualificationEntity).save(qualification);
  }

  claimExpired(now: Date, limit: number): Promise<QualificationEntity[]> {
    return this.manager
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('q.revoked_at IS NULL AND q.expiry_recorded_at IS NULL AND q.valid_until <= :now', {
        now,
      })
      .orderBy('q.valid_until', 'ASC')
      .limit(limit)
      .getMany();
  }
}

@Injectable()
export class QualificationsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxPublisher,
  ) {}

  transaction<T>(work: (tx: QualificationsTx) => Promise<T>): Promise<T> {
    return inTransaction(
      this.dataSource,
      this.outbox,
      (m, sink) => new TypeOrmQualificationsTx(m, sink),
      work,
    );
  }

  async findByRequestId(requestId: string): Promise<QualificationEntity | undefined> {
    return (
      (await this.dataSource.getRepository(QualificationEntity).findOneBy({ requestId })) ??
      undefined
    );
  }

  async findParticipant(id: string): Promise<ParticipantEntity | undefined> {
    return (await this.dataSource.getRepository(ParticipantEntity).findOneBy({ id })) ?? undefined;
  }

  /** Qualifications of the participant not revoked and valid at `at`, latest end first. */
  findValidAt(participantId: string, at: Date): Promise<QualificationEntity[]> {
    return this.dataSource
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .where('q.participant_id = :participantId AND q.revoked_at IS NULL', { participantId })
      .andWhere('q.valid_from <= :at AND q.valid_until > :at', { at })
      .orderBy('q.valid_until', 'DESC')
      .getMany();
  }

  /** Newest first; one extra row tells whether another page exists. */
  list(
    participantId: string | undefined,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<QualificationEntity[]> {
    const query = this.dataSource
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .orderBy('q.created_at', 'DESC')
      .addOrderBy('q.id', 'DESC')
      .limit(limit + 1);
    if (participantId) query.andWhere('q.participant_id = :participantId', { participantId });
    if (after)
      query.andWhere('(q.created_at, q.id) < (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
