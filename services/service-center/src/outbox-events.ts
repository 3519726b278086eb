/** Event subjects this service publishes (stream PARTICIPANT); consumers depend on these names. */
export const ParticipantEvents = {
  REGISTERED: 'cinode.participant.participant.registered',
  CERTIFIED: 'cinode.participant.participant.certified',
  REJECTED: 'cinode.participant.participant.rejected',
  SUSPENDED: 'cinode.participant.participant.suspended',
  REINSTATED: 'cinode.participant.participant.reinstated',
  REVOKED: 'cinode.participant.participant.revoked',
  QUALIFICATION_GRANTED: 'cinode.participant.qualification.granted',
  QUALIFICATION_EXPIRED: 'cinode.participant.qualification.expired',
  QUALIFICATION_REVOKED: 'cinode.participant.qualification.revoked',
  KEY_ISSUED: 'cinode.participant.key.issued',
  KEY_REVOKED: 'cinode.participant.key.revoked',
} as const;

/** Data of every participant event. States and kinds are short names: "CERTIFIED", "RESELLER". */
export interface ParticipantEventData {
  participantId: string;
  kind: string;
  state: string;
  /** null for a registration. */
  previousState: string | null;
  reason: string;
  actor: string;
}

export interface QualificationEventData {
  qualificationId: string;
  participantId: string;
  validFrom: string;
  validUntil: string;
  reason: string;
  actor: string;
}

export interface KeyEventData {
  apiKeyId: string;
  participantId: string;
  prefix: string;
  reason: string;
  actor: string;
}

export interface PendingEvent {
  type: string;
  data: ParticipantEventData | QualificationEventData | KeyEventData;
}
