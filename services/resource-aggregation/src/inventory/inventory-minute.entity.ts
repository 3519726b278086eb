import type { InventoryData } from '@cinode/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../pools/pool.entity';

/** A pool's inventory at one-minute resolution: the last snapshot applied in each minute. */
@Entity({ name: 'inventory_minute' })
@Index('ix_inventory_minute_minute', ['minute'])
export class InventoryMinuteEntity {
  @PrimaryColumn({
    name: 'pool_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_inventory_minute',
  })
  poolId!: string;

  @PrimaryColumn({
    name: 'minute',
    type: 'timestamptz',
    primaryKeyConstraintName: 'pk_inventory_minute',
  })
  minute!: Date;

  @Column({ name: 'sequence', type: 'bigint', transformer: bigintNumber() })
  sequence!: number;

  @Column({ name: 'inventory', type: 'jsonb' })
  inventory!: InventoryData;
}
