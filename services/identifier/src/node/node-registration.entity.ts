import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** The node's own registration with the national node: a single row (id = 1). */
@Entity({ name: 'node_registration' })
@Check('ck_node_registration_single_row', '"id" = 1')
export class NodeRegistrationEntity {
  @PrimaryColumn({ name: 'id', type: 'smallint', primaryKeyConstraintName: 'pk_node_registration' })
  id!: number;

  @Column({ name: 'node_code', type: 'varchar', length: 8 })
  nodeCode!: string;

  @Column({ name: 'identifier_prefix', type: 'varchar', length: 32 })
  identifierPrefix!: string;

  @Column({ name: 'node_key', type: 'varchar', length: 128 })
  nodeKey!: string;

  /** 'national_node' when obtained by RegisterNode, 'config' when taken from NODE_CODE/IDENTIFIER_PREFIX. */
  @Column({ name: 'source', type: 'varchar', length: 16 })
  source!: 'national_node' | 'config';

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;
}
