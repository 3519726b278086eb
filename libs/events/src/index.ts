export * from './backoff';
export * from './dead-letters';
export * from './envelope';
export * from './nats-headers';
export * from './streams';
export * from './outbox/outbox-event.entity';
export * from './outbox/outbox.publisher';
export * from './outbox/outbox.relay';
export * from './outbox/outbox-retry.migration';
export * from './outbox/outbox-claim-index.migration';
export * from './outbox/outbox-admin';
export * from './consumer/processed-event.entity';
export * from './consumer/event.consumer';
export * from './consumer/failure-classes';
export * from './consumer/processed-event-pruning';
export * from './consumer/event-consumer.registry';
export * from './events.migration';
export * from './events.module';

import { ProcessedEventEntity } from './consumer/processed-event.entity';
import { CreateEventTables1763900000000 } from './events.migration';
import { OutboxRowRetries1796300000000 } from './outbox/outbox-retry.migration';
import { OutboxClaimIndex1796700000000 } from './outbox/outbox-claim-index.migration';
import { OutboxDataText1797100000000 } from './outbox/outbox-data-text.migration';
import { OutboxEventEntity } from './outbox/outbox-event.entity';

/** List these among a service's entities and migrations (the platform's schema does it). */
export const EVENT_ENTITIES = [OutboxEventEntity, ProcessedEventEntity];
export const EVENT_MIGRATIONS = [
  CreateEventTables1763900000000,
  OutboxRowRetries1796300000000,
  OutboxClaimIndex1796700000000,
  OutboxDataText1797100000000,
];
export { runOutboxCli, OUTBOX_USAGE } from './outbox-cli';
