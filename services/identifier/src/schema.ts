import { serviceSchema } from '@cinode/kit';
import { IdentifierTransitionEntity } from './identifiers/identifier-transition.entity';
import { IdentifierEntity } from './identifiers/identifier.entity';
import { IdentifierInitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { VersionsAndCallerScopedRequestIds1796100000000 } from './migrations/1796100000000-versions-and-caller-scoped-request-ids';
import { IdentifierChangeNotifications1796500000000 } from './migrations/1796500000000-identifier-change-notifications';
import { PoolLiveStates1796600000000 } from './migrations/1796600000000-pool-live-states';
import { NodeRegistrationEntity } from './node/node-registration.entity';
import { ParticipantProjectionEntity } from './participants/participant-projection.entity';
import { PoolLiveStateEntity } from './pool-states/pool-live-state.entity';

/** The service's tables with the platform's (idempotency keys, audit log, outbox, processed events). */
export const IDENTIFIER_SCHEMA = serviceSchema(
  {
    entities: [
      NodeRegistrationEntity,
      IdentifierEntity,
      IdentifierTransitionEntity,
      ParticipantProjectionEntity,
      PoolLiveStateEntity,
    ],
    migrations: [
      IdentifierInitialSchema1764000000000,
      VersionsAndCallerScopedRequestIds1796100000000,
      IdentifierChangeNotifications1796500000000,
      PoolLiveStates1796600000000,
    ],
  },
  { events: true },
);
