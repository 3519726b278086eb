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

  /** One key; plain SQL, as SubmitReport looks up the key of every report. */
  async find(keyId: string, tx?: Tx): Promise<ReportSigningKeyEntity | undefined> {
    const rows: { key_id: string; node_code: string; public_key: Buffer; registered_at: Date }[] =
      await this.uow
        .manager(tx)
        .query(
          `SELECT key_id, node_code, public_key, registered_at FROM report_signing_key WHERE key_id = $1`,
          [keyId],
        );
    const row = rows[0];
    return row
      ? {
          keyId: row.key_id,
          nodeCode: row.node_code,
          publicKey: row.public_key,
          registeredAt: row.registered_at,
        }
      : undefined;
  }
}
