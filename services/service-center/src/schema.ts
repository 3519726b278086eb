import { CreateEventTables1763900000000, EVENT_ENTITIES } from '@cinode/events';
import { InitialSchema1795452564844 } from './migrations/1795452564844-InitialSchema';
import { ApiKeyEntity } from './api-keys/api-key.entity';
import { AuditRecordEntity } from './audit/audit-record.entity';
import { CertificationEventEntity } from './certification/certification-event.entity';
import { ParticipantEntity } from './participants/participant.entity';
import { QualificationEntity } from './qualifications/qualification.entity';
import { SigningKeyEntity } from './tokens/signing-key.entity';
import { TokenAttemptFailureEntity } from './tokens/token-attempt-failure.entity';

export const SERVICE_CENTER_ENTITIES = [
  ParticipantEntity,
  CertificationEventEntity,
  ApiKeyEntity,
  QualificationEntity,
  SigningKeyEntity,
  TokenAttemptFailureEntity,
  AuditRecordEntity,
  ...EVENT_ENTITIES,
];
export const SERVICE_CENTER_MIGRATIONS = [
  CreateEventTables1763900000000,
  InitialSchema1795452564844,
];
