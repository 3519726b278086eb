import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@cinode/kit';
import { SERVICE_NAME, type ComputeSelectionConfig } from './config';
import { COMPUTE_SELECTION_SCHEMA } from './schema';
import { SelectionModule } from './selection/selection.module';

/** Root module of compute selection: the platform (with NATS, for the resource stream) and selection. */
@Module({})
export class ComputeSelectionModule {
  static forConfig(config: ComputeSelectionConfig): DynamicModule {
    return {
      module: ComputeSelectionModule,
      imports: [
        PlatformModule.forService({
          service: SERVICE_NAME,
          config,
          schema: COMPUTE_SELECTION_SCHEMA,
          events: { owns: [] },
        }),
        SelectionModule,
      ],
    };
  }
}
