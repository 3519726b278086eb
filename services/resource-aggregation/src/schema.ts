import { serviceSchema } from '@cinode/kit';
import { AllocationEntity } from './allocations/allocation.entity';
import { HoldEntity } from './holds/hold.entity';
import { InventoryMinuteEntity } from './inventory/inventory-minute.entity';
import { ResourceInitialSchema1796085577792 } from './migrations/1796085577792-initial-schema';
import { ResourceAllocations1796092539916 } from './migrations/1796092539916-allocations';
import { ResourcePoolRisk1796120880717 } from './migrations/1796120880717-pool-risk';
import { ResourcePoolReportsHot1797100000001 } from './migrations/1797100000001-pool-reports-hot';
import { ResourceAllocationStartTimeout1797200000000 } from './migrations/1797200000000-allocation-start-timeout';
import { PoolIdentifierEntity } from './pools/pool-identifier.entity';
import { PoolRiskEntity } from './pools/pool-risk.entity';
import { PoolEntity } from './pools/pool.entity';

/** The service's tables with the platform's (idempotency keys, audit log, outbox, processed events). */
export const RESOURCE_AGGREGATION_SCHEMA = serviceSchema(
  {
    entities: [
      PoolEntity,
      PoolIdentifierEntity,
      PoolRiskEntity,
      InventoryMinuteEntity,
      HoldEntity,
      AllocationEntity,
    ],
    migrations: [
      ResourceInitialSchema1796085577792,
      ResourceAllocations1796092539916,
      ResourcePoolRisk1796120880717,
      ResourcePoolReportsHot1797100000001,
      ResourceAllocationStartTimeout1797200000000,
    ],
  },
  { events: true },
);
