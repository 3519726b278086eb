import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/** What a posture check found, as kept with the endpoint (the proto's PostureResult). */
export interface StoredPostureResult {
  reachable: boolean;
  error: string;
  tlsVersion: string;
  certificateSubject: string;
  certificateIssuer: string;
  /** ISO 8601; '' without a certificate. */
  certificateNotAfter: string;
  issues: { check: string; severity: string; message: string }[];
  /** ISO 8601. */
  checkedAt: string;
}

/** A participant's network endpoint the node's posture checks probe. */
@Entity({ name: 'endpoint' })
@Unique('uq_endpoint_participant_address', ['participantId', 'address'])
@Index('ix_endpoint_participant', ['participantId', 'createdAt', 'endpointId'])
@Index('ix_endpoint_created', ['createdAt', 'endpointId'])
@Index('ix_endpoint_due', ['nextCheckAt'])
export class EndpointEntity {
  @PrimaryColumn({ name: 'endpoint_id', type: 'uuid', primaryKeyConstraintName: 'pk_endpoint' })
  endpointId!: string;

  @Column({ name: 'participant_id', type: 'varchar', length: 128 })
  participantId!: string;

  /** `host:port`, as registered (canonical: lower-case host, IPv6 in brackets). */
  @Column({ name: 'address', type: 'varchar', length: 300 })
  address!: string;

  @Column({ name: 'purpose', type: 'varchar', length: 200 })
  purpose!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** When the scheduled checks take it next (now at registration). */
  @Column({ name: 'next_check_at', type: 'timestamptz' })
  nextCheckAt!: Date;

  @Column({ name: 'last_result', type: 'jsonb', nullable: true })
  lastResult!: StoredPostureResult | null;
}
