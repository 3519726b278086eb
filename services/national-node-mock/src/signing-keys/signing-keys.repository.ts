import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { ReportSigningKeyEntity } from './report-signing-key.entity';

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async insert(
    tx: Tx,
    key: Omit<ReportSigningKeyEntity, 'registeredAt'>,
  ): Promise<ReportSigningKeyEntity> {
    await tx.manager.query(
      `INSERT INTO report_signing_key (key_id, node_code, public_key, registered_at)
       VALUES ($1, $2, $3, date_trunc('milliseconds', now()))`,
      [key.keyId, key.nodeCode, key.publicKey],
    );
    const stored = await this.find(key.keyId, tx);
    if (!stored) throw new Error(`signing key ${key.keyId} was inserted but cannot be read`);
    return stored;
  }

  async find(keyId: string, tx?: Tx): Promise<ReportSigningKeyEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(ReportSigningKeyEntity).findOneBy({ keyId })) ??
      undefined
    );
  }
}
