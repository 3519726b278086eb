import { DynamicModule, Module } from '@nestjs/common';
import { MARKET_STREAM, PARTICIPANT_STREAM } from '@cinode/contracts';
import { PlatformModule } from '@cinode/kit';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { CertificationModule } from './certification/certification.module';
import { SERVICE_NAME, type ServiceCenterConfig } from './config';
import { MarketModule } from './market/market.module';
import { ParticipantsModule } from './participants/participants.module';
import { QualificationsModule } from './qualifications/qualifications.module';
import { SERVICE_CENTER_SCHEMA } from './schema';
import { StartupModule } from './startup/startup.module';
import { TokensModule } from './tokens/tokens.module';

/** Root module of the service center: the platform and its own features. */
@Module({})
export class ServiceCenterModule {
  static forConfig(config: ServiceCenterConfig): DynamicModule {
    return {
      module: ServiceCenterModule,
      imports: [
        PlatformModule.forService({
          service: SERVICE_NAME,
          config,
          schema: SERVICE_CENTER_SCHEMA,
          events: { owns: [PARTICIPANT_STREAM, MARKET_STREAM] },
          ownTokenVerifier: true,
        }),
        ParticipantsModule,
        CertificationModule,
        QualificationsModule,
        ApiKeysModule,
        TokensModule,
        StartupModule,
        MarketModule,
      ],
    };
  }
}
