import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './pool.entity';

/**
 * The security service's latest risk assessment of every pool it has spoken of (RiskChanged),
 * whether or not the pool row exists yet: a pool's risk can be assessed before its registration
 * has committed here (or in this replica's view), and a registration starts from what is recorded.
 */
@Entity({ name: 'pool_risk' })
export class PoolRiskEntity {
  /** The pool's identifier, in canonical upper case. */
  @PrimaryColumn({
    name: 'pool_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_pool_risk',
  })
  poolId!: string;

  @Column({ name: 'security_level_cap', type: 'smallint', nullable: true })
  securityLevelCap!: number | null;

  @Column({ name: 'quarantined', type: 'boolean' })
  quarantined!: boolean;

  /** The risk's own version, per pool at the security service (events apply newest first). */
  @Column({ name: 'version', type: 'bigint', transformer: bigintNumber() })
  version!: number;
}
