import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { NodeEntity } from '../nodes/node.entity';

@Entity({ name: 'identifier_filing' })
@Index('uq_identifier_filing_filing_number', ['filingNumber'], { unique: true })
@Index('ix_identifier_filing_filed_at', ['filedAt', 'identifier'])
@Index('ix_identifier_filing_node_filed_at', ['nodeCode', 'filedAt', 'identifier'])
export class IdentifierFilingEntity {
  /** Canonical (upper-case) identifier. */
  @PrimaryColumn({
    name: 'identifier',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'pk_identifier_filing',
  })
  identifier!: string;

  @Column({ name: 'filing_number', type: 'varchar', length: 32 })
  filingNumber!: string;

  @Column({ name: 'node_code', type: 'varchar', length: 8 })
  nodeCode!: string;

  @ManyToOne(() => NodeEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'node_code', foreignKeyConstraintName: 'fk_identifier_filing_node' })
  node?: NodeEntity;

  @Column({ name: 'object_type', type: 'smallint' })
  objectType!: number;

  @Column({ name: 'object_name', type: 'varchar', length: 200 })
  objectName!: string;

  @Column({ name: 'owner_name', type: 'varchar', length: 200 })
  ownerName!: string;

  @Column({ name: 'owner_credit_code', type: 'varchar', length: 18 })
  ownerCreditCode!: string;

  @Column({ name: 'attributes', type: 'jsonb' })
  attributes!: Record<string, string>;

  @Column({ name: 'allocated_at', type: 'timestamptz' })
  allocatedAt!: Date;

  @Column({ name: 'filed_at', type: 'timestamptz' })
  filedAt!: Date;

  /** SHA-256 of the filed content, to tell a retry from a conflicting second filing. */
  @Column({ name: 'content_sha256', type: 'char', length: 64 })
  contentSha256!: string;
}
