import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PagePosition } from '@cinode/common';
import { OutboxPublisher } from '@cinode/events';
import { ApiKeyState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiKeyEntity } from '../api-keys/api-key.entity';
import { ParticipantEntity } from '../participants/participant.entity';
import { inTransaction, type EventSink } from '../transaction';
import { CertificationEventEntity } from './certification-event.entity';

/** The queries a certification transition runs inside its transaction. */
export interface CertificationTx extends EventSink {
  lockParticipant(id: string): Promise<ParticipantEntity | undefined>;
  saveParticipant(participant: ParticipantEntity): Promise<void>;
  recordTransition(event: CertificationEventEntity): Promise<void>;
  insertApiKey(key: ApiKeyEntity): Promise<void>;
  /** Revokes every active key of the participant and returns them as revoked. */
  revokeActiveKeys(participantId: string, at: Date, reason: string): Promise<ApiKeyEntity[]>;
}

class TypeOrmCertificationTx implements CertificationTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly sink: EventSink,
  ) {}

  emit: EventSink['emit'] = (events) => this.sink.emit(events);

  async lockParticipant(id: string): Promise<ParticipantEntity | undefined> {
    const row = await this.manager
      .getRepository(ParticipantEntity)
      .createQueryBuilder('p')
      .setLock('pessimistic_write')
      .where('p.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async saveParticipant(participant: ParticipantEntity): Promise<void> {
    await this.manager.getRepository(ParticipantEntity).save(participant);
  }

  async recordTransition(event: CertificationEventEntity): Promise<void> {
    await this.manager.getRepository(CertificationEventEntity).insert(event);
  }

  async insertApiKey(key: ApiKeyEntity): Promise<void> {
    await this.manager.getRepository(ApiKeyEntity).insert(key);
  }

  async revokeActiveKeys(participantId: string, at: Date, reason: string): Promise<ApiKeyEntity[]> {
    const repository = this.manager.getRepository(ApiKeyEntity);
    const active = await repository.findBy({
      participantId,
      state: ApiKeyState.API_KEY_STATE_ACTIVE,
    });
    for (const key of active) {
      key.state = ApiKeyState.API_KEY_STATE_REVOKED;
      key.revokedAt = at;
      key.revokeReason = reason;
    }
    if (active.length > 0) await repository.save(active);
    return active;
  }
}

@Injectable()
export class CertificationRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxPublisher,
  ) {}

  transaction<T>(work: (tx: CertificationTx) => Promise<T>): Promise<T> {
    return inTransaction(
      this.dataSource,
      this.outbox,
      (m, sink) => new TypeOrmCertificationTx(m, sink),
      work,
    );
  }

  /** Oldest first; one extra row tells whether another page exists. */
  listEvents(
    participantId: string,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<CertificationEventEntity[]> {
    const query = this.dataSource
      .getRepository(CertificationEventEntity)
      .createQueryBuilder('e')
      .where('e.participant_id = :participantId', { participantId })
      .orderBy('e.created_at', 'ASC')
      .addOrderBy('e.id', 'ASC')
      .limit(limit + 1);
    if (after)
      query.andWhere('(e.created_at, e.id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
