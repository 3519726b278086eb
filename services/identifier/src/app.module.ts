import { DynamicModule, Module } from '@nestjs/common';
import { IDENTIFIER_STREAM } from '@cinode/contracts';
import { PlatformModule } from '@cinode/kit';
import { SERVICE_NAME, type IdentifierConfig } from './config';
import { FilingModule } from './filing/filing.module';
import { IssuanceModule } from './issuance/issuance.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { ParticipantEventsModule } from './participant-events/participant-events.module';
import { PoolStatesModule } from './pool-states/pool-states.module';
import { QueriesModule } from './queries/queries.module';
import { IDENTIFIER_SCHEMA } from './schema';

/** Root module of the identifier service: the platform, and the service's features. */
@Module({})
export class IdentifierModule {
  static forConfig(config: IdentifierConfig): DynamicModule {
    return {
      module: IdentifierModule,
      imports: [
        PlatformModule.forService({
          service: SERVICE_NAME,
          config,
          schema: IDENTIFIER_SCHEMA,
          events: { owns: [IDENTIFIER_STREAM] },
        }),
        IssuanceModule,
        QueriesModule,
        LifecycleModule,
        FilingModule,
        ParticipantEventsModule,
        PoolStatesModule,
      ],
    };
  }
}
