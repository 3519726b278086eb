import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export interface PersonRecord {
  name: string;
  title: string;
  mobile: string;
  email: string;
}

export interface OrganizationRecord {
  creditCode: string;
  address: string;
  contactPerson: PersonRecord;
  responsiblePerson: PersonRecord;
}

export interface IndividualRecord {
  identityNumber: string;
  mobile: string;
  email: string;
}

@Entity({ name: 'participant' })
@Index('ix_participant_created_at', ['createdAt', 'id'])
@Index('ix_participant_kind_state', ['kind', 'state'])
export class ParticipantEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_participant' })
  id!: string;

  /** ParticipantKind enum value. */
  @Column({ name: 'kind', type: 'smallint' })
  kind!: number;

  /** UserCategory enum value; 0 for every kind but USER. */
  @Column({ name: 'user_category', type: 'smallint' })
  userCategory!: number;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  /** ParticipantState enum value. */
  @Column({ name: 'state', type: 'smallint' })
  state!: number;

  @Column({ name: 'organization', type: 'jsonb', nullable: true })
  organization!: OrganizationRecord | null;

  @Column({ name: 'individual', type: 'jsonb', nullable: true })
  individual!: IndividualRecord | null;

  /** One more with every change; the `version` of the participant's events. */
  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
