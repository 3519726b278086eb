import type {
  AcceleratorData,
  HeldData,
  InventoryData,
  PoolClassCode,
  PriceData,
} from '@cinode/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Where the pool's identifier stands with the national node. */
export type PoolFiling = 'pending' | 'filed' | 'suspended';
/** Whether the provider reports: `unknown` before its first report. */
export type PoolLiveness = 'unknown' | 'online' | 'stale' | 'offline';

/** A provider's resource pool: what it is, where it stands, and its latest capacity. */
@Entity({ name: 'pool' })
@Index('ix_pool_provider', ['providerParticipantId', 'registeredAt', 'poolId'])
@Index('ix_pool_registered', ['registeredAt', 'poolId'])
// Not on last_reported_at, which every report sets: reports update pools in place
// (ResourcePoolReportsHot1797100000001).
@Index('ix_pool_liveness', ['liveness'])
export class PoolEntity {
  /** The pool's identifier (object type RP), in canonical upper case. */
  @PrimaryColumn({
    name: 'pool_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_pool',
  })
  poolId!: string;

  @Column({ name: 'provider_participant_id', type: 'varchar', length: 128 })
  providerParticipantId!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'pool_class', type: 'varchar', length: 1 })
  poolClass!: PoolClassCode;

  @Column({ name: 'site', type: 'varchar', length: 64 })
  site!: string;

  @Column({ name: 'region_code', type: 'varchar', length: 6 })
  regionCode!: string;

  @Column({ name: 'accelerators', type: 'jsonb' })
  accelerators!: AcceleratorData[];

  @Column({ name: 'security_level', type: 'smallint' })
  securityLevel!: number;

  @Column({ name: 'datacenter_tier', type: 'smallint' })
  datacenterTier!: number;

  @Column({ name: 'pue', type: 'double precision' })
  pue!: number;

  @Column({ name: 'renewable_ratio', type: 'double precision' })
  renewableRatio!: number;

  @Column({ name: 'gflops_per_watt', type: 'double precision' })
  gflopsPerWatt!: number;

  /** Integer fen per unit and hour. */
  @Column({ name: 'price', type: 'jsonb' })
  price!: PriceData;

  @Column({ name: 'filing', type: 'varchar', length: 16 })
  filing!: PoolFiling;

  @Column({ name: 'liveness', type: 'varchar', length: 16 })
  liveness!: PoolLiveness;

  @Column({ name: 'inventory', type: 'jsonb', nullable: true })
  inventory!: InventoryData | null;

  @Column({ name: 'inventory_sequence', type: 'bigint', transformer: bigintNumber() })
  inventorySequence!: number;

  @Column({ name: 'observed_at', type: 'timestamptz', nullable: true })
  observedAt!: Date | null;

  @Column({ name: 'last_reported_at', type: 'timestamptz', nullable: true })
  lastReportedAt!: Date | null;

  /** Capacity of active and confirmed holds, kept with the holds under the pool's row lock. */
  @Column({ name: 'held', type: 'jsonb' })
  held!: HeldData;

  /** 1 at registration, one more for each change (the version pool events carry). */
  @Column({ name: 'version', type: 'bigint', transformer: bigintNumber() })
  version!: number;

  /**
   * The highest security protection level selection may credit the pool with, from the security
   * service's latest risk assessment of it (RiskChanged); null when its claimed level stands.
   */
  @Column({ name: 'security_level_cap', type: 'smallint', nullable: true })
  securityLevelCap!: number | null;

  /** The security service quarantined the pool or its provider: out of selection. */
  @Column({ name: 'quarantined', type: 'boolean', default: false })
  quarantined!: boolean;

  /** The version of the latest RiskChanged applied to the pool (0: none yet). */
  @Column({ name: 'risk_version', type: 'bigint', default: 0, transformer: bigintNumber() })
  riskVersion!: number;

  @Column({ name: 'contract_version', type: 'smallint' })
  contractVersion!: number;

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;

  @Column({ name: 'state_changed_at', type: 'timestamptz' })
  stateChangedAt!: Date;
}

/** bigint columns as numbers: sequences and versions stay far below 2^53. */
export function bigintNumber() {
  return {
    to: (value: number | undefined) => value,
    from: (value: string | null) => (value === null ? null : Number(value)),
  };
}
