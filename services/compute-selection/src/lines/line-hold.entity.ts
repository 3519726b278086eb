import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './line.entity';

export type LineHoldStateName = 'held' | 'confirmed' | 'released' | 'expired';

/** States in which a hold's bandwidth counts in its line's `bandwidth_mbps_reserved`. */
export const RESERVING: ReadonlySet<LineHoldStateName> = new Set(['held', 'confirmed']);

/** Bandwidth of a dedicated line reserved for an order. */
@Entity({ name: 'line_hold' })
@Index('ix_line_hold_line_state', ['lineId', 'state'])
@Index('ix_line_hold_state_expires', ['state', 'expiresAt'])
export class LineHoldEntity {
  /** A UUIDv7, assigned by the service. */
  @PrimaryColumn({ name: 'hold_id', type: 'uuid', primaryKeyConstraintName: 'pk_line_hold' })
  holdId!: string;

  @Column({ name: 'line_id', type: 'varchar', length: 64 })
  lineId!: string;

  @Column({ name: 'order_reference', type: 'varchar', length: 128 })
  orderReference!: string;

  @Column({ name: 'bandwidth_mbps', type: 'bigint', transformer: bigintNumber() })
  bandwidthMbps!: number;

  @Column({ name: 'duration_hours', type: 'integer' })
  durationHours!: number;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: LineHoldStateName;

  /** When a HELD or CONFIRMED hold ends by itself (the sweep expires it). */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  /** Token subject of the caller that created it: only it confirms or releases it. */
  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'state_changed_at', type: 'timestamptz' })
  stateChangedAt!: Date;

  /** Why it was released; empty otherwise. */
  @Column({ name: 'detail', type: 'varchar', length: 500, default: '' })
  detail!: string;
}
