import { serviceSchema } from '@cinode/kit';
import { ApiKeyEntity } from './api-keys/api-key.entity';
import { DemandEntity } from './market/demand.entity';
import { OrderEntity } from './market/order.entity';
import { InitialSchema1795452564844 } from './migrations/1795452564844-InitialSchema';
import { KitAlignment1796100000000 } from './migrations/1796100000000-KitAlignment';
import { PublishKeysBeforeSigning1796400000000 } from './migrations/1796400000000-PublishKeysBeforeSigning';
import { Market1796500000000 } from './migrations/1796500000000-Market';
import { OrderLineHold1796900000000 } from './migrations/1796900000000-OrderLineHold';
import { OrderHoldRelease1797000000000 } from './migrations/1797000000000-OrderHoldRelease';
import { OrderHoldReleaseIndex1797000000001 } from './migrations/1797000000001-OrderHoldReleaseIndex';
import { ParticipantTransitionEntity } from './participants/participant-transition.entity';
import { ParticipantEntity } from './participants/participant.entity';
import { QualificationEntity } from './qualifications/qualification.entity';
import { SigningKeyEntity } from './tokens/signing-key.entity';
import { TokenAttemptFailureEntity } from './tokens/token-attempt-failure.entity';

/** The service center's tables with the platform's (outbox, idempotency keys, audit log). */
export const SERVICE_CENTER_SCHEMA = serviceSchema(
  {
    entities: [
      ParticipantEntity,
      ParticipantTransitionEntity,
      ApiKeyEntity,
      QualificationEntity,
      SigningKeyEntity,
      TokenAttemptFailureEntity,
      DemandEntity,
      OrderEntity,
    ],
    migrations: [
      InitialSchema1795452564844,
      KitAlignment1796100000000,
      PublishKeysBeforeSigning1796400000000,
      Market1796500000000,
      OrderLineHold1796900000000,
      OrderHoldRelease1797000000000,
      OrderHoldReleaseIndex1797000000001,
    ],
  },
  { events: true },
);
