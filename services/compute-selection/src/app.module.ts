import { DynamicModule, Module } from '@nestjs/common';
import { NETWORK_STREAM } from '@cinode/contracts';
import { PlatformModule } from '@cinode/kit';
import { SERVICE_NAME, type ComputeSelectionConfig } from './config';
import { COMPUTE_SELECTION_SCHEMA } from './schema';
import { IdentifierEventsModule } from './identifier-events/identifier-events.module';
import { LinesModule } from './lines/lines.module';
import { SelectionModule } from './selection/selection.module';

/**
 * Root module of compute selection: the platform (with its events: it owns the network stream and
 * follows the resource and identifier streams), dedicated lines and selection.
 */
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
          events: { owns: [NETWORK_STREAM] },
        }),
        LinesModule,
        IdentifierEventsModule,
        SelectionModule,
      ],
    };
  }
}
