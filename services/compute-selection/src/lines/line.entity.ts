import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Where the line's identifier stands with the national node. */
export type LineFiling = 'pending' | 'filed' | 'suspended';

/** bigint columns as numbers: bandwidths, prices and versions stay far below 2^53. */
export function bigintNumber() {
  return {
    to: (value: number | undefined) => value,
    from: (value: string | null) => (value === null ? null : Number(value)),
  };
}

/** A line provider's dedicated line between two sites, as its provider states it. */
@Entity({ name: 'line' })
@Index('ix_line_provider', ['providerParticipantId', 'registeredAt', 'lineId'])
@Index('ix_line_registered', ['registeredAt', 'lineId'])
export class LineEntity {
  /** The line's identifier (object type LN), in canonical upper case. */
  @PrimaryColumn({
    name: 'line_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_line',
  })
  lineId!: string;

  @Column({ name: 'provider_participant_id', type: 'varchar', length: 128 })
  providerParticipantId!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'a_region_code', type: 'varchar', length: 6 })
  aRegionCode!: string;

  @Column({ name: 'a_site', type: 'varchar', length: 64 })
  aSite!: string;

  @Column({ name: 'b_region_code', type: 'varchar', length: 6 })
  bRegionCode!: string;

  @Column({ name: 'b_site', type: 'varchar', length: 64 })
  bSite!: string;

  @Column({ name: 'bandwidth_mbps_total', type: 'bigint', transformer: bigintNumber() })
  bandwidthMbpsTotal!: number;

  @Column({ name: 'bandwidth_mbps_free', type: 'bigint', transformer: bigintNumber() })
  bandwidthMbpsFree!: number;

  /**
   * What this node's orders hold or use of it (line holds HELD or CONFIRMED), kept in the same
   * transaction as the holds; Select offers free less this.
   */
  // No column default: TypeORM would read it back into the entity at INSERT, untransformed.
  @Column({ name: 'bandwidth_mbps_reserved', type: 'bigint', transformer: bigintNumber() })
  bandwidthMbpsReserved!: number;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs!: number;

  @Column({ name: 'price_fen_per_hour', type: 'bigint', transformer: bigintNumber() })
  priceFenPerHour!: number;

  @Column({ name: 'availability', type: 'double precision' })
  availability!: number;

  @Column({ name: 'out_of_service', type: 'boolean' })
  outOfService!: boolean;

  @Column({ name: 'filing', type: 'varchar', length: 16 })
  filing!: LineFiling;

  /** 1 at registration, one more for each change; events carry it, replicas keep the newest. */
  @Column({ name: 'version', type: 'bigint', transformer: bigintNumber() })
  version!: number;

  /** 1 at registration, one more per UpdateLine that changed it: what expected_spec_version checks. */
  @Column({ name: 'spec_version', type: 'bigint', default: 1, transformer: bigintNumber() })
  specVersion!: number;

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/**
 * The filing state of every line identifier (object type LN) as the identifier service's events
 * tell it, whether or not its line row exists yet: a filing can be accepted before the
 * registration that asked for the identifier has committed here.
 */
@Entity({ name: 'line_identifier' })
export class LineIdentifierEntity {
  @PrimaryColumn({
    name: 'identifier',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_line_identifier',
  })
  identifier!: string;

  @Column({ name: 'filing', type: 'varchar', length: 16 })
  filing!: LineFiling;

  /** The identifier's own version (events apply newest first). */
  @Column({ name: 'version', type: 'bigint', transformer: bigintNumber() })
  version!: number;
}
