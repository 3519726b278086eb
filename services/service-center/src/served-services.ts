/** The gRPC services this process serves (plus health and reflection, added by the bootstrap). */
export const SERVED_SERVICES = [
  'cinode.participant.v1.ParticipantService',
  'cinode.participant.v1.CertificationService',
  'cinode.participant.v1.QualificationService',
  'cinode.participant.v1.ApiKeyService',
  'cinode.credential.v1.TokenService',
];
