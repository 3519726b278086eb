import { serviceSchema } from '@cinode/kit';
import { AttackEventEntity } from './attacks/attack-event.entity';
import { EndpointEntity } from './endpoints/endpoint.entity';
import { FindingEntity } from './findings/finding.entity';
import { InitialSchema1796120733485 } from './migrations/1796120733485-initial-schema';
import { KnownPoolEntity, ParticipantStandingEntity } from './projections/projection.entity';
import { QuarantineEntity } from './risk/quarantine.entity';
import { RiskEntity } from './risk/risk.entity';

/** security's tables with the platform's (idempotency keys, audit log, outbox, processed events). */
export const SECURITY_SCHEMA = serviceSchema(
  {
    entities: [
      AttackEventEntity,
      FindingEntity,
      EndpointEntity,
      RiskEntity,
      QuarantineEntity,
      KnownPoolEntity,
      ParticipantStandingEntity,
    ],
    migrations: [InitialSchema1796120733485],
  },
  { events: true },
);
