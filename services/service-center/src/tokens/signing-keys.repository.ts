import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, type EntityManager } from 'typeorm';
import { SigningKeyEntity } from './signing-key.entity';

export interface SigningKeysTx {
  findActive(): Promise<SigningKeyEntity | undefined>;
  findByRotationRequestId(requestId: string): Promise<SigningKeyEntity | undefined>;
  insert(key: SigningKeyEntity): Promise<void>;
  save(key: SigningKeyEntity): Promise<void>;
  retireExpired(now: Date): Promise<void>;
  listPublished(now: Date): Promise<SigningKeyEntity[]>;
}

class TypeOrmSigningKeysTx implements SigningKeysTx {
  constructor(private readonly manager: EntityManager) {}

  async findActive(): Promise<SigningKeyEntity | undefined> {
    return (
      (await this.manager.getRepository(SigningKeyEntity).findOneBy({ state: 'active' })) ??
      undefined
    );
  }

  async findByRotationRequestId(rotationRequestId: string): Promise<SigningKeyEntity | undefined> {
    return (
      (await this.manager.getRepository(SigningKeyEntity).findOneBy({ rotationRequestId })) ??
      undefined
    );
  }

  async insert(key: SigningKeyEntity): Promise<void> {
    await this.manager.getRepository(SigningKeyEntity).insert(key);
  }

  async save(key: SigningKeyEntity): Promise<void> {
    await this.manager.getRepository(SigningKeyEntity).save(key);
  }

  async retireExpired(now: Date): Promise<void> {
    await this.manager
      .createQueryBuilder()
      .update(SigningKeyEntity)
      .set({ state: 'retired' })
      .where(`state = 'published' AND retire_after <= :now`, { now })
      .execute();
  }

  listPublished(now: Date): Promise<SigningKeyEntity[]> {
    return listVerificationKeys(this.manager, now);
  }
}

function listVerificationKeys(manager: EntityManager, now: Date): Promise<SigningKeyEntity[]> {
  return manager
    .getRepository(SigningKeyEntity)
    .createQueryBuilder('k')
    .where(`k.state = 'active'`)
    .orWhere(
      new Brackets((b) =>
        b.where(`k.state = 'published'`).andWhere('k.retire_after > :now', { now }),
      ),
    )
    .orderBy('k.created_at', 'DESC')
    .getMany();
}

/** Serialises key creation and rotation across replicas. */
const SIGNING_KEY_LOCK = 'service-center:signing-keys';

@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A transaction holding the signing-key advisory lock until it ends. */
  exclusive<T>(work: (tx: SigningKeysTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [SIGNING_KEY_LOCK]);
      return work(new TypeOrmSigningKeysTx(manager));
    });
  }

  async findActive(): Promise<SigningKeyEntity | undefined> {
    return (
      (await this.dataSource.getRepository(SigningKeyEntity).findOneBy({ state: 'active' })) ??
      undefined
    );
  }

  /** The active key and published keys that may still have signed a valid token. */
  listVerificationKeys(now: Date): Promise<SigningKeyEntity[]> {
    return listVerificationKeys(this.dataSource.manager, now);
  }
}
