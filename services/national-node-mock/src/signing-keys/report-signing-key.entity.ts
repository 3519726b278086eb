import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { NodeEntity } from '../nodes/node.entity';

/** A public key a node signs its reports with; several per node while it rotates. */
@Entity({ name: 'report_signing_key' })
@Index('ix_report_signing_key_node_code', ['nodeCode', 'registeredAt'])
export class ReportSigningKeyEntity {
  /** Lower-case hex SHA-256 of the raw public key. */
  @PrimaryColumn({
    name: 'key_id',
    type: 'char',
    length: 64,
    primaryKeyConstraintName: 'pk_report_signing_key',
  })
  keyId!: string;

  @Column({ name: 'node_code', type: 'varchar', length: 8 })
  nodeCode!: string;

  @ManyToOne(() => NodeEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'node_code', foreignKeyConstraintName: 'fk_report_signing_key_node' })
  node?: NodeEntity;

  /** The raw Ed25519 public key, 32 bytes. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey!: Buffer;

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;
}
