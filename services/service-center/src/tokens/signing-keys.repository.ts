import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { Brackets } from 'typeorm';
import { SigningKeyEntity } from './signing-key.entity';

/** Serialises key creation and rotation across replicas. */
const SIGNING_KEY_LOCK = 'service-center:signing-keys';

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Holds the signing-key advisory lock until the transaction ends. */
  async lockExclusive(tx: Tx): Promise<void> {
    await tx.manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [SIGNING_KEY_LOCK]);
  }

  async findActive(tx?: Tx): Promise<SigningKeyEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(SigningKeyEntity).findOneBy({ state: 'active' })) ??
      undefined
    );
  }

  async findByKid(kid: string, tx?: Tx): Promise<SigningKeyEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(SigningKeyEntity).findOneBy({ kid })) ?? undefined
    );
  }

  /**
   * The key that signs at `now`: the active key once its activates_at has come, else the key it
   * succeeds, published but still signing until then (demoted_at in the future).
   */
  async findSigner(now: Date, tx?: Tx): Promise<SigningKeyEntity | undefined> {
    const candidates = await this.uow
      .manager(tx)
      .getRepository(SigningKeyEntity)
      .createQueryBuilder('k')
      .where(`k.state = 'active' AND (k.activates_at IS NULL OR k.activates_at <= :now)`, { now })
      .orWhere(`k.state = 'published' AND k.demoted_at > :now`, { now })
      .getMany();
    return candidates.find((k) => k.state === 'active') ?? candidates[0];
  }

  async insert(tx: Tx, key: SigningKeyEntity): Promise<void> {
    await tx.manager.getRepository(SigningKeyEntity).insert(key);
  }

  async save(tx: Tx, key: SigningKeyEntity): Promise<void> {
    await tx.manager.getRepository(SigningKeyEntity).save(key);
  }

  async retireExpired(tx: Tx, now: Date): Promise<void> {
    await tx.manager
      .createQueryBuilder()
      .update(SigningKeyEntity)
      .set({ state: 'retired' })
      .where(`state = 'published' AND retire_after <= :now`, { now })
      .execute();
  }

  /**
   * The keys verifiers must know: the active key (signing, or about to) and published keys that may
   * still have signed a valid token, newest first.
   */
  listVerificationKeys(now: Date, tx?: Tx): Promise<SigningKeyEntity[]> {
    return this.uow
      .manager(tx)
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
}
