import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'national_node' })
@Index('uq_national_node_node_key', ['nodeKey'], { unique: true })
@Index('ix_national_node_registered_at', ['registeredAt', 'nodeCode'])
export class NodeEntity {
  @PrimaryColumn({
    name: 'node_code',
    type: 'varchar',
    length: 8,
    primaryKeyConstraintName: 'pk_national_node',
  })
  nodeCode!: string;

  @Column({ name: 'identifier_prefix', type: 'varchar', length: 32 })
  identifierPrefix!: string;

  @Column({ name: 'node_key', type: 'varchar', length: 128 })
  nodeKey!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'node_type', type: 'smallint' })
  nodeType!: number;

  @Column({ name: 'region_code', type: 'char', length: 6 })
  regionCode!: string;

  @Column({ name: 'operator_name', type: 'varchar', length: 200 })
  operatorName!: string;

  @Column({ name: 'endpoint', type: 'varchar', length: 512 })
  endpoint!: string;

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;

  /**
   * `kid` of the service key whose token registered the node: only tokens signed by it act for the
   * node. '' for a node registered before nodes were bound; its next RegisterNode binds it.
   */
  @Column({ name: 'owner_key_id', type: 'varchar', length: 128, default: '' })
  ownerKeyId!: string;
}
