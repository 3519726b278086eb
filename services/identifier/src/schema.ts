import { CreateEventTables1763900000000, EVENT_ENTITIES } from '@cinode/events';
import { IdentifierTransitionEntity } from './identifiers/identifier-transition.entity';
import { IdentifierEntity } from './identifiers/identifier.entity';
import { IdentifierInitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { NodeRegistrationEntity } from './node/node-registration.entity';
import { ParticipantProjectionEntity } from './participants/participant.entity';

export const IDENTIFIER_ENTITIES = [
  ...EVENT_ENTITIES,
  NodeRegistrationEntity,
  IdentifierEntity,
  IdentifierTransitionEntity,
  ParticipantProjectionEntity,
];
export const IDENTIFIER_MIGRATIONS = [
  CreateEventTables1763900000000,
  IdentifierInitialSchema1764000000000,
];
