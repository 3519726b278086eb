import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A pool the node knows, from resource aggregation's registrations: whose it is. */
@Entity({ name: 'known_pool' })
@Index('ix_known_pool_provider', ['providerParticipantId'])
export class KnownPoolEntity {
  @PrimaryColumn({
    name: 'pool_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_known_pool',
  })
  poolId!: string;

  @Column({ name: 'provider_participant_id', type: 'varchar', length: 128 })
  providerParticipantId!: string;

  /** The security protection level (等保) the provider claims for it. */
  @Column({ name: 'security_level', type: 'smallint' })
  securityLevel!: number;
}

/** A participant's certification state, from the service center's lifecycle events. */
@Entity({ name: 'participant_standing' })
export class ParticipantStandingEntity {
  @PrimaryColumn({
    name: 'participant_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'pk_participant_standing',
  })
  participantId!: string;

  @Column({ name: 'kind', type: 'varchar', length: 32 })
  kind!: string;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: string;

  @Column({ name: 'version', type: 'integer' })
  version!: number;
}
