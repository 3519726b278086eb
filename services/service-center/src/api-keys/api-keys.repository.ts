import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { ApiKeyState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { ApiKeyEntity } from './api-key.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async findById(id: string, tx?: Tx): Promise<ApiKeyEntity | undefined> {
    return (await this.uow.manager(tx).getRepository(ApiKeyEntity).findOneBy({ id })) ?? undefined;
  }

  async findByPrefix(prefix: string, tx?: Tx): Promise<ApiKeyEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(ApiKeyEntity).findOneBy({ prefix })) ?? undefined
    );
  }

  /** Reads and row-locks one key until the transaction ends. */
  async lock(tx: Tx, id: string): Promise<ApiKeyEntity | undefined> {
    const row = await tx.manager
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .setLock('pessimistic_write')
      .where('k.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  /** A participant's active keys, row-locked. */
  lockActive(tx: Tx, participantId: string): Promise<ApiKeyEntity[]> {
    return tx.manager
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .setLock('pessimistic_write')
      .where('k.participant_id = :participantId AND k.state = :state', {
        participantId,
        state: ApiKeyState.API_KEY_STATE_ACTIVE,
      })
      .orderBy('k.created_at', 'ASC')
      .getMany();
  }

  async insert(tx: Tx, key: ApiKeyEntity): Promise<void> {
    await tx.manager.getRepository(ApiKeyEntity).insert(key);
  }

  /** Inserts unless the prefix is taken; false when it was. */
  async insertIfPrefixAbsent(tx: Tx, key: ApiKeyEntity): Promise<boolean> {
    const result = await tx.manager
      .createQueryBuilder()
      .insert()
      .into(ApiKeyEntity)
      .values(key)
      .orIgnore()
      .returning(['id'])
      .execute();
    return Array.isArray(result.raw) && result.raw.length > 0;
  }

  async save(tx: Tx, key: ApiKeyEntity): Promise<void> {
    await tx.manager.getRepository(ApiKeyEntity).save(key);
  }

  async touchLastUsed(tx: Tx, id: string, at: Date): Promise<void> {
    await tx.manager.getRepository(ApiKeyEntity).update({ id }, { lastUsedAt: at });
  }

  /** Newest first; one extra row tells whether another page exists. */
  list(
    participantId: string,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<ApiKeyEntity[]> {
    const query = this.uow
      .manager()
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
