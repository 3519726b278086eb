import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The Ed25519 key pair reports are signed with. The private key is stored encrypted
 * (AES-256-GCM under REPORT_KEY_ENCRYPTION_KEY, the key id as associated data).
 */
@Entity({ name: 'report_signing_key' })
export class SigningKeyEntity {
  /** Lower-case hex SHA-256 of the raw public key: the id the national node knows it by. */
  @PrimaryColumn({
    name: 'key_id',
    type: 'char',
    length: 64,
    primaryKeyConstraintName: 'pk_report_signing_key',
  })
  keyId!: string;

  /** The raw 32-byte public key. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey!: Buffer;

  /** PKCS#8 PEM of the private key, encrypted. */
  @Column({ name: 'private_key_encrypted', type: 'text' })
  privateKeyEncrypted!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** When the national node accepted the public key (RegisterReportSigningKey); null until then. */
  @Column({ name: 'registered_at', type: 'timestamptz', nullable: true })
  registeredAt!: Date | null;

  /** The node code it was registered for. */
  @Column({ name: 'node_code', type: 'varchar', length: 8, nullable: true })
  nodeCode!: string | null;
}
