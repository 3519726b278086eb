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

  /**
   * One key, with the owner key of its node; plain SQL, as SubmitReport looks up the key of every
   * report.
   */
  async find(
    keyId: string,
    tx?: Tx,
  ): Promise<(ReportSigningKeyEntity & { nodeOwnerKeyId: string }) | undefined> {
    const rows: {
      key_id: string;
      node_code: string;
      public_key: Buffer;
      registered_at: Date;
      owner_key_id: string;
    }[] = await this.uow.manager(tx).query(
      `SELECT k.key_id, k.node_code, k.public_key, k.registered_at, n.owner_key_id
         FROM report_signing_key k JOIN national_node n ON n.node_code = k.node_code
        WHERE k.key_id = $1`,
      [keyId],
    );
    const row = rows[0];
    return row
      ? {
          keyId: row.key_id,
          nodeCode: row.node_code,
          publicKey: row.public_key,
          registeredAt: row.registered_at,
          nodeOwnerKeyId: row.owner_key_id,
        }
      : undefined;
  }
}
