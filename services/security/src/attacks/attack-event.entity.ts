import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import type { AttackEventStateName, SecuritySeverity } from '@cinode/contracts';

/** The reporter's own defence status, as seed 004 names it (当前防御处理状态). */
export const HANDLING_STATUSES = ['detected', 'handling', 'mitigated', 'resolved'] as const;
export type HandlingStatusName = (typeof HANDLING_STATUSES)[number];

/** One attack event, as its reporter last stated it and as the operator handles it. */
@Entity({ name: 'attack_event' })
@Unique('uq_attack_event_source_event', ['source', 'eventId'])
@Index('ix_attack_event_time', ['attackTime', 'securityEventId'])
@Index('ix_attack_event_updated', ['updatedAt'])
@Index('ix_attack_event_participant', ['participantId', 'attackTime'])
@Index('ix_attack_event_pool', ['poolId', 'attackTime'])
@Index('ix_attack_event_source_recorded', ['source', 'recordedAt'])
export class AttackEventEntity {
  @PrimaryColumn({
    name: 'security_event_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_attack_event',
  })
  securityEventId!: string;

  /** A participant id, `node:<service>` or `operator:<subject>`. */
  @Column({ name: 'source', type: 'varchar', length: 140 })
  source!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 128 })
  eventId!: string;

  @Column({ name: 'attack_time', type: 'timestamptz' })
  attackTime!: Date;

  @Column({ name: 'attacker_ip', type: 'varchar', length: 45 })
  attackerIp!: string;

  @Column({ name: 'target_ip', type: 'varchar', length: 45 })
  targetIp!: string;

  @Column({ name: 'attack_method', type: 'varchar', length: 200 })
  attackMethod!: string;

  @Column({ name: 'attacked_asset_type', type: 'varchar', length: 200 })
  attackedAssetType!: string;

  @Column({ name: 'ongoing', type: 'boolean' })
  ongoing!: boolean;

  @Column({ name: 'description', type: 'varchar', length: 4000 })
  description!: string;

  @Column({ name: 'handling_status', type: 'varchar', length: 16 })
  handlingStatus!: HandlingStatusName;

  @Column({ name: 'severity', type: 'varchar', length: 16 })
  severity!: SecuritySeverity;

  /** The attacked pool's identifier; '' when none was named. */
  @Column({ name: 'pool_id', type: 'varchar', length: 64 })
  poolId!: string;

  /** The participant whose assets were attacked; '' for the node itself. */
  @Column({ name: 'participant_id', type: 'varchar', length: 128 })
  participantId!: string;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: AttackEventStateName;

  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'note', type: 'varchar', length: 1000 })
  note!: string;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
