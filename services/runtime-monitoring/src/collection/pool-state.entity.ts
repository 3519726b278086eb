import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../series/series-point.entity';

/** The newest state of each resource pool, from its events: what the level samples count. */
@Entity({ name: 'pool_state' })
@Index('ix_pool_state_state', ['state'])
export class PoolStateEntity {
  @PrimaryColumn({
    name: 'pool_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_pool_state',
  })
  poolId!: string;

  @Column({ name: 'version', type: 'bigint', transformer: bigintNumber() })
  version!: number;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: string;

  @Column({ name: 'region_code', type: 'varchar', length: 16 })
  regionCode!: string;

  /** Model of the pool's first accelerator, `none` without one. */
  @Column({ name: 'accelerator', type: 'varchar', length: 64 })
  accelerator!: string;

  @Column({ name: 'cpu_cores_total', type: 'bigint', transformer: bigintNumber() })
  cpuCoresTotal!: number;

  @Column({ name: 'cpu_cores_free', type: 'bigint', transformer: bigintNumber() })
  cpuCoresFree!: number;

  @Column({ name: 'gpu_cards_total', type: 'bigint', transformer: bigintNumber() })
  gpuCardsTotal!: number;

  @Column({ name: 'gpu_cards_free', type: 'bigint', transformer: bigintNumber() })
  gpuCardsFree!: number;

  @Column({ name: 'npu_cards_total', type: 'bigint', transformer: bigintNumber() })
  npuCardsTotal!: number;

  @Column({ name: 'npu_cards_free', type: 'bigint', transformer: bigintNumber() })
  npuCardsFree!: number;

  @Column({ name: 'fp16_tflops_total', type: 'double precision' })
  fp16TflopsTotal!: number;

  @Column({ name: 'fp16_tflops_free', type: 'double precision' })
  fp16TflopsFree!: number;

  /** When the pool last went stale or offline; null while it is not in fault. */
  @Column({ name: 'fault_since', type: 'timestamptz', nullable: true })
  faultSince!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
