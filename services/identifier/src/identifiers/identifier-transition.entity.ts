import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { IdentifierEntity } from './identifier.entity';
import type { IdentifierStateName } from './identifier-states';

/** Append-only history: one row per state change, with who, why and when. */
@Entity({ name: 'identifier_transition' })
@Index('ix_identifier_transition_identifier', ['identifier', 'id'])
export class IdentifierTransitionEntity {
  @PrimaryGeneratedColumn('identity', {
    name: 'id',
    type: 'bigint',
    primaryKeyConstraintName: 'pk_identifier_transition',
  })
  id!: string;

  @Column({ name: 'identifier', type: 'varchar', length: 64 })
  identifier!: string;

  @ManyToOne(() => IdentifierEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({
    name: 'identifier',
    foreignKeyConstraintName: 'fk_identifier_transition_identifier',
  })
  identifierRecord?: IdentifierEntity;

  @Column({ name: 'from_state', type: 'varchar', length: 20, nullable: true })
  fromState!: IdentifierStateName | null;

  @Column({ name: 'to_state', type: 'varchar', length: 20 })
  toState!: IdentifierStateName;

  @Column({ name: 'actor', type: 'varchar', length: 128 })
  actor!: string;

  @Column({ name: 'reason', type: 'varchar', length: 500 })
  reason!: string;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt!: Date;
}
