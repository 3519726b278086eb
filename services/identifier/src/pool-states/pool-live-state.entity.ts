import { Column, Entity, PrimaryColumn } from 'typeorm';

const wholeNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * A resource pool's live state and free capacity, projected from resource aggregation's pool
 * events (newest version wins) so ResolveIdentifier answers them without calling aggregation.
 * Changes announce the identifier on `identifier_changed`, like the identifier's own rows, so the
 * resolve cache never serves a stale state.
 */
@Entity({ name: 'pool_live_state' })
export class PoolLiveStateEntity {
  /** The pool's identifier, canonical (upper case). */
  @PrimaryColumn({
    name: 'identifier',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_pool_live_state',
  })
  identifier!: string;

  @Column({ name: 'version', type: 'bigint', transformer: wholeNumber })
  version!: number;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: string;

  @Column({ name: 'reported', type: 'boolean' })
  reported!: boolean;

  @Column({ name: 'cpu_cores_free', type: 'bigint', transformer: wholeNumber })
  cpuCoresFree!: number;

  @Column({ name: 'gpu_cards_free', type: 'bigint', transformer: wholeNumber })
  gpuCardsFree!: number;

  @Column({ name: 'npu_cards_free', type: 'bigint', transformer: wholeNumber })
  npuCardsFree!: number;

  @Column({ name: 'fp16_tflops_free', type: 'double precision' })
  fp16TflopsFree!: number;

  @Column({ name: 'fp32_tflops_free', type: 'double precision' })
  fp32TflopsFree!: number;

  @Column({ name: 'memory_gib_free', type: 'bigint', transformer: wholeNumber })
  memoryGibFree!: number;

  @Column({ name: 'storage_gib_free', type: 'bigint', transformer: wholeNumber })
  storageGibFree!: number;

  @Column({ name: 'last_reported_at', type: 'timestamptz', nullable: true })
  lastReportedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
