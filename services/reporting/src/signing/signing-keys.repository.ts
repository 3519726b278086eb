import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { SigningKeyEntity } from './signing-key.entity';

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Serialises key creation between replicas for the rest of the transaction. */
  async lockExclusive(tx: Tx): Promise<void> {
    await tx.manager.query('LOCK TABLE report_signing_key IN SHARE ROW EXCLUSIVE MODE');
  }

  /** The newest key: the one that signs. */
  async findCurrent(tx?: Tx): Promise<SigningKeyEntity | undefined> {
    return (
      (await this.uow
        .manager(tx)
        .getRepository(SigningKeyEntity)
        .createQueryBuilder('k')
        .orderBy('k.created_at', 'DESC')
        .addOrderBy('k.key_id', 'ASC')
        .limit(1)
        .getOne()) ?? undefined
    );
  }

  async insert(tx: Tx, key: SigningKeyEntity): Promise<void> {
    await tx.manager.getRepository(SigningKeyEntity).insert(key);
  }

  async markRegistered(keyId: string, nodeCode: string): Promise<void> {
    await this.uow
      .manager()
      .query(
        `UPDATE report_signing_key SET registered_at = COALESCE(registered_at, now()), node_code = $2 WHERE key_id = $1`,
        [keyId, nodeCode],
      );
  }
}
