import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AuthGuard, TokenVerifier } from '@cinode/auth';
import { DatabaseModule } from '@cinode/database';
import { EventsModule, defineStream } from '@cinode/events';
import { ApiKeysGrpcController } from './api-keys/api-keys.grpc-controller';
import { ApiKeysRepository } from './api-keys/api-keys.repository';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuditInterceptor } from './audit/audit.interceptor';
import { AuditRepository } from './audit/audit.repository';
import { CertificationGrpcController } from './certification/certification.grpc-controller';
import { CertificationRepository } from './certification/certification.repository';
import { CertificationService } from './certification/certification.service';
import { SERVICE_CENTER_CONFIG, SERVICE_NAME, type ServiceCenterConfig } from './config';
import { ParticipantsGrpcController } from './participants/participants.grpc-controller';
import { ParticipantsRepository } from './participants/participants.repository';
import { ParticipantsService } from './participants/participants.service';
import { QualificationsGrpcController } from './qualifications/qualifications.grpc-controller';
import { QualificationsRepository } from './qualifications/qualifications.repository';
import { QualificationsService } from './qualifications/qualifications.service';
import { SERVICE_CENTER_ENTITIES, SERVICE_CENTER_MIGRATIONS } from './schema';
import { StartupService } from './startup.service';
import { ServiceCenterTokenVerifier } from './tokens/service-center-token.verifier';
import { SigningKeysRepository } from './tokens/signing-keys.repository';
import { SigningKeysService } from './tokens/signing-keys.service';
import { TokenAttemptsRepository } from './tokens/token-attempts.repository';
import { TokenExchangeService } from './tokens/token-exchange.service';
import { TokensGrpcController } from './tokens/tokens.grpc-controller';

export const PARTICIPANT_STREAM = defineStream({
  name: 'PARTICIPANT',
  subjects: ['cinode.participant.>'],
  description: 'Participants, certification, qualifications and API keys (service center)',
});

/** Root module of the service center. */
@Module({})
export class ServiceCenterModule {
  static forConfig(config: ServiceCenterConfig): DynamicModule {
    return {
      module: ServiceCenterModule,
      imports: [
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          entities: SERVICE_CENTER_ENTITIES,
          migrations: SERVICE_CENTER_MIGRATIONS,
          migrateOnStart: config.DB_MIGRATE_ON_START,
          applicationName: SERVICE_NAME,
          poolSize: config.DB_POOL_MAX,
        }),
        EventsModule.forRoot({
          natsUrl: config.NATS_URL,
          source: SERVICE_NAME,
          streams: [PARTICIPANT_STREAM],
        }),
      ],
      controllers: [
        ParticipantsGrpcController,
        CertificationGrpcController,
        QualificationsGrpcController,
        ApiKeysGrpcController,
        TokensGrpcController,
      ],
      providers: [
        { provide: SERVICE_CENTER_CONFIG, useValue: config },
        // Not AuthModule: this service must also trust the signing keys in its own database.
        ServiceCenterTokenVerifier,
        { provide: TokenVerifier, useExisting: ServiceCenterTokenVerifier },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
        AuditRepository,
        ParticipantsRepository,
        ParticipantsService,
        CertificationRepository,
        CertificationService,
        ApiKeysRepository,
        ApiKeysService,
        QualificationsRepository,
        QualificationsService,
        SigningKeysRepository,
        SigningKeysService,
        TokenAttemptsRepository,
        TokenExchangeService,
        StartupService,
      ],
    };
  }
}
