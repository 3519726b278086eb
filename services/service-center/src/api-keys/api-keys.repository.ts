import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PagePosition } from '@cinode/common';
import { OutboxPublisher } from '@cinode/events';
import { DataSource, type EntityManager } from 'typeorm';
import { inTransaction, type EventSink } from '../transaction';
import { ApiKeyEntity } from './api-key.entity';

export interface ApiKeysTx extends EventSink {
  lockById(id: string): Promise<ApiKeyEntity | undefined>;
  findByRotationRequestId(requestId: string): Promise<ApiKeyEntity | undefined>;
  insert(key: ApiKeyEntity): Promise<void>;
  save(key: ApiKeyEntity): Promise<void>;
}

class TypeOrmApiKeysTx implements ApiKeysTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly sink: EventSink,
  ) {}

  emit: EventSink['emit'] = (events) => this.sink.emit(events);

  async lockById(id: string): Promise<ApiKeyEntity | undefined> {
    const row = await this.manager
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .setLock('pessimistic_write')
      .where('k.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async findByRotationRequestId(rotationRequestId: string): Promise<ApiKeyEntity | undefined> {
    return (
      (await this.manager.getRepository(ApiKeyEntity).findOneBy({ rotationRequestId })) ?? undefined
    );
  }

  async insert(key: ApiKeyEntity): Promise<void> {
    await this.manager.getRepository(ApiKeyEntity).insert(key);
  }

  async save(key: ApiKeyEntity): Promise<void> {
    await this.manager.getRepository(ApiKeyEntity).save(key);
  }
}

@Injectable()
export class ApiKeysRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxPublisher,
  ) {}

  transaction<T>(work: (tx: ApiKeysTx) => Promise<T>): Promise<T> {
    return inTransaction(
      this.dataSource,
      this.outbox,
      (m, sink) => new TypeOrmApiKeysTx(m, sink),
      work,
    );
  }

  async findById(id: string): Promise<ApiKeyEntity | undefined> {
    return (await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ id })) ?? undefined;
  }

  async findByPrefix(prefix: string): Promise<ApiKeyEntity | undefined> {
    return (await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ prefix })) ?? undefined;
  }

  async insertIfPrefixAbsent(key: ApiKeyEntity): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(ApiKeyEntity)
      .values(key)
      .orIgnore()
      .returning(['id'])
      .execute();
    return Array.isArray(result.raw) && result.raw.length > 0;
  }

  async touchLastUsed(id: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(ApiKeyEntity).update({ id }, { lastUsedAt: at });
  }

  /** Newest first; one extra row tells whether another page exists. */
  list(
    participantId: string,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<ApiKeyEntity[]> {
    const query = this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.participant_id = :participantId', { participantId })
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(limit + 1);
    if (after)
      query.andWhere('(k.created_at, k.id) < (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
