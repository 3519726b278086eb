import { DynamicModule, Module } from '@nestjs/common';
import { RESOURCE_STREAM } from '@cinode/contracts';
import { PlatformModule } from '@cinode/kit';
import { SERVICE_NAME, type ResourceAggregationConfig } from './config';
import { HoldsModule } from './holds/holds.module';
import { IdentifierEventsModule } from './identifier-events/identifier-events.module';
import { InventoryModule } from './inventory/inventory.module';
import { LivenessModule } from './liveness/liveness.module';
import { PoolsModule } from './pools/pools.module';
import { RiskEventsModule } from './risk-events/risk-events.module';
import { RESOURCE_AGGREGATION_SCHEMA } from './schema';

/** Root module of resource aggregation: the platform with its events, and the features. */
@Module({})
export class ResourceAggregationModule {
  static forConfig(config: ResourceAggregationConfig): DynamicModule {
    return {
      module: ResourceAggregationModule,
      imports: [
        PlatformModule.forService({
          service: SERVICE_NAME,
          config,
          schema: RESOURCE_AGGREGATION_SCHEMA,
          events: { owns: [RESOURCE_STREAM] },
        }),
        PoolsModule,
        InventoryModule,
        HoldsModule,
        LivenessModule,
        IdentifierEventsModule,
        RiskEventsModule,
      ],
    };
  }
}
