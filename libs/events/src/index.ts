export * from './backoff';
export * from './envelope';
export * from './nats-headers';
export * from './streams';
export * from './outbox/outbox-event.entity';
export * from './outbox/outbox.publisher';
export * from './outbox/outbox.relay';
export * from './consumer/processed-event.entity';
export * from './consumer/event.consumer';
export * from './consumer/event-consumer.registry';
export * from './events.migration';
export * from './events.module';

import { ProcessedEventEntity } from './consumer/processed-event.entity';
import { OutboxEventEntity } from './outbox/outbox-event.entity';

/** List these among a service's entities (alongside CreateEventTables1763900000000 among its migrations). */
export const EVENT_ENTITIES = [OutboxEventEntity, ProcessedEventEntity];
