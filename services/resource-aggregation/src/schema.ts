import { serviceSchema } from '@cinode/kit';
import { HoldEntity } from './holds/hold.entity';
import { InventoryMinuteEntity } from './inventory/inventory-minute.entity';
import { ResourceInitialSchema1796085577792 } from './migrations/1796085577792-initial-schema';
import { PoolIdentifierEntity } from './pools/pool-identifier.entity';
import { PoolEntity } from './pools/pool.entity';

/** The service's tables with the platform's (idempotency keys, audit log, outbox, processed events). */
export const RESOURCE_AGGREGATION_SCHEMA = serviceSchema(
  {
    entities: [PoolEntity, PoolIdentifierEntity, InventoryMinuteEntity, HoldEntity],
    migrations: [ResourceInitialSchema1796085577792],
  },
  { events: true },
);
