import { serviceSchema } from '@cinode/kit';
import { AlertEntity, AlertRuleEntity } from './alerts/alert.entity';
import {
  AllocationSeenEntity,
  DemandSeenEntity,
  ParticipantSeenEntity,
} from './collection/market-state.entity';
import { ObservationEntity } from './collection/observation.entity';
import { PoolStateEntity } from './collection/pool-state.entity';
import { FeedEventEntity, FeedHeadEntity } from './feed/feed-event.entity';
import { InitialSchema1796104964842 } from './migrations/1796104964842-initial-schema';
import { ScrapeStateEntity } from './platform/scrape-state.entity';
import { SeriesPointEntity } from './series/series-point.entity';

/** Runtime monitoring's tables with the platform's (idempotency keys, audit log, outbox, processed events). */
export const RUNTIME_MONITORING_SCHEMA = serviceSchema(
  {
    entities: [
      ObservationEntity,
      SeriesPointEntity,
      PoolStateEntity,
      DemandSeenEntity,
      AllocationSeenEntity,
      ParticipantSeenEntity,
      FeedEventEntity,
      FeedHeadEntity,
      ScrapeStateEntity,
      AlertRuleEntity,
      AlertEntity,
    ],
    migrations: [InitialSchema1796104964842],
  },
  { events: true },
);
