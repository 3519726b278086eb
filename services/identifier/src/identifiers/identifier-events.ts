/** Event types this service publishes (stream IDENTIFIER, subjects cinode.identifier.>). */
export const IDENTIFIER_EVENTS = {
  issued: 'cinode.identifier.identifier.issued',
  filed: 'cinode.identifier.identifier.filed',
  suspended: 'cinode.identifier.identifier.suspended',
  reinstated: 'cinode.identifier.identifier.reinstated',
  retired: 'cinode.identifier.identifier.retired',
} as const;

export interface IdentifierIssuedData {
  identifier: string;
  nodeCode: string;
  objectType: string;
  ownerParticipantId: string;
}

export interface IdentifierFiledData {
  identifier: string;
  filingNumber: string;
}

export interface IdentifierStateChangedData {
  identifier: string;
  ownerParticipantId: string;
  state: string;
  suspensionCause: string | null;
  reason: string;
  actor: string;
}
