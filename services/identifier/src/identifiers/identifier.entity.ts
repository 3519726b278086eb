import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ObjectTypeCode } from '../format/identifier-format';
import type { IdentifierStateName, SuspensionCauseName } from './identifier-states';

@Entity({ name: 'identifier' })
@Check(
  'ck_identifier_state',
  `"state" IN ('reserved', 'pending_filing', 'filed', 'suspended', 'retired')`,
)
@Index('uq_identifier_serial', ['serial'], { unique: true })
@Index('ix_identifier_owner_serial', ['ownerParticipantId', 'serial'])
export class IdentifierEntity {
  /** Canonical (upper-case) identifier. */
  @PrimaryColumn({
    name: 'identifier',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_identifier',
  })
  identifier!: string;

  /** From identifier_serial_seq; unique across object types, so a serial is never issued twice. */
  @Column({
    name: 'serial',
    type: 'bigint',
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  serial!: number;

  @Column({ name: 'node_code', type: 'varchar', length: 8 })
  nodeCode!: string;

  @Column({ name: 'object_type', type: 'char', length: 2 })
  objectType!: ObjectTypeCode;

  @Column({ name: 'object_name', type: 'varchar', length: 200 })
  objectName!: string;

  @Column({ name: 'owner_participant_id', type: 'varchar', length: 128 })
  ownerParticipantId!: string;

  @Column({ name: 'owner_name', type: 'varchar', length: 200 })
  ownerName!: string;

  @Column({ name: 'owner_credit_code', type: 'varchar', length: 18 })
  ownerCreditCode!: string;

  @Column({ name: 'attributes', type: 'jsonb' })
  attributes!: Record<string, string>;

  @Column({ name: 'state', type: 'varchar', length: 20 })
  state!: IdentifierStateName;

  @Column({ name: 'suspension_cause', type: 'varchar', length: 20, nullable: true })
  suspensionCause!: SuspensionCauseName | null;

  @Column({ name: 'filing_number', type: 'varchar', length: 32, nullable: true })
  filingNumber!: string | null;

  @Column({ name: 'filing_error', type: 'text', nullable: true })
  filingError!: string | null;

  @Column({ name: 'filed_at', type: 'timestamptz', nullable: true })
  filedAt!: Date | null;

  @Column({ name: 'issued_by', type: 'varchar', length: 128 })
  issuedBy!: string;

  /** Millisecond precision: it is filed as allocated_at, and a re-filing must send the same value. */
  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt!: Date;

  @Column({ name: 'state_changed_at', type: 'timestamptz' })
  stateChangedAt!: Date;

  /**
   * 1 when issued, one more for each state change after: the `version` every identifier event
   * carries, so consumers order an identifier's events by it.
   */
  @Column({ name: 'version', type: 'integer' })
  version!: number;
}
