import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber, type PoolFiling } from './pool.entity';

/**
 * The filing state of every pool identifier (object type RP) as the identifier service's events
 * tell it, whether or not its pool row exists yet: a filing can be accepted before the
 * registration that asked for the identifier has committed here.
 */
@Entity({ name: 'pool_identifier' })
export class PoolIdentifierEntity {
  @PrimaryColumn({
    name: 'identifier',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_pool_identifier',
  })
  identifier!: string;

  @Column({ name: 'filing', type: 'varchar', length: 16 })
  filing!: PoolFiling;

  /** The identifier's own version (events apply newest first). */
  @Column({ name: 'version', type: 'bigint', transformer: bigintNumber() })
  version!: number;
}
