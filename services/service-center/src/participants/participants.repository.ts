import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PagePosition } from '@cinode/common';
import { OutboxPublisher } from '@cinode/events';
import { DataSource, type EntityManager } from 'typeorm';
import { CertificationEventEntity } from '../certification/certification-event.entity';
import { inTransaction, type EventSink } from '../transaction';
import { ParticipantEntity } from './participant.entity';

export interface ParticipantFilter {
  kind?: number;
  state?: number;
  nameContains?: string;
  /** Restricts the list to one participant (a participant listing itself). */
  onlyId?: string;
}

/** The queries a participant change runs inside its transaction. */
export interface ParticipantsTx extends EventSink {
  /** Inserts unless the request id is taken; returns false when it was. */
  insertIfAbsent(participant: ParticipantEntity): Promise<boolean>;
  lockById(id: string): Promise<ParticipantEntity | undefined>;
  save(participant: ParticipantEntity): Promise<void>;
  recordTransition(event: CertificationEventEntity): Promise<void>;
}

class TypeOrmParticipantsTx implements ParticipantsTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly sink: EventSink,
  ) {}

  emit: EventSink['emit'] = (events) => this.sink.emit(events);

  async insertIfAbsent(participant: ParticipantEntity): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .insert()
      .into(ParticipantEntity)
      .values(participant)
      .orIgnore()
      .returning(['id'])
      .execute();
    return Array.isArray(result.raw) && result.raw.length > 0;
  }

  async lockById(id: string): Promise<ParticipantEntity | undefined> {
    const row = await this.manager
      .getRepository(ParticipantEntity)
      .createQueryBuilder('p')
      .setLock('pessimistic_write')
      .where('p.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async save(participant: ParticipantEntity): Promise<void> {
    await this.manager.getRepository(ParticipantEntity).save(participant);
  }

  async recordTransition(event: CertificationEventEntity): Promise<void> {
    await this.manager.getRepository(CertificationEventEntity).insert(event);
  }
}

@Injectable()
export class ParticipantsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxPublisher,
  ) {}

  transaction<T>(work: (tx: ParticipantsTx) => Promise<T>): Promise<T> {
    return inTransaction(
      this.dataSource,
      this.outbox,
      (m, sink) => new TypeOrmParticipantsTx(m, sink),
      work,
    );
  }

  async findById(id: string): Promise<ParticipantEntity | undefined> {
    return (await this.dataSource.getRepository(ParticipantEntity).findOneBy({ id })) ?? undefined;
  }

  async findByRequestId(requestId: string): Promise<ParticipantEntity | undefined> {
    return (
      (await this.dataSource.getRepository(ParticipantEntity).findOneBy({ requestId })) ?? undefined
    );
  }

  /** Newest first; one extra row tells whether another page exists. */
  list(
    filter: ParticipantFilter,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<ParticipantEntity[]> {
    const query = this.dataSource
      .getRepository(ParticipantEntity)
      .createQueryBuilder('p')
      .orderBy('p.created_at', 'DESC')
      .addOrderBy('p.id', 'DESC')
      .limit(limit + 1);
    if (filter.kind) query.andWhere('p.kind = :kind', { kind: filter.kind });
    if (filter.state) query.andWhere('p.state = :state', { state: filter.state });
    if (filter.onlyId) query.andWhere('p.id = :onlyId', { onlyId: filter.onlyId });
    if (filter.nameContains) {
      // ILIKE with the user's text escaped, so % and _ match themselves.
      const pattern = `%${filter.nameContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere(`p.name ILIKE :pattern ESCAPE '\\'`, { pattern });
    }
    if (after)
      query.andWhere('(p.created_at, p.id) < (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
