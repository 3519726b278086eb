import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@cinode/auth';
import { DatabaseModule } from '@cinode/database';
import { EventsModule, defineStream } from '@cinode/events';
import { IDENTIFIER_CONFIG, SERVICE_NAME, type IdentifierConfig } from './config';
import { FilingConsumer } from './filing/filing.consumer';
import { IdentifiersGrpcController } from './identifiers/identifiers.grpc-controller';
import { IdentifiersRepository } from './identifiers/identifiers.repository';
import { IdentifiersService } from './identifiers/identifiers.service';
import { NationalNodeGateway } from './national/national-node.gateway';
import { NodeRegistrationRepository } from './node/node-registration.repository';
import { NodeRegistrationService } from './node/node-registration.service';
import { ParticipantEventsConsumer } from './participants/participant-events.consumer';
import { ParticipantsRepository } from './participants/participants.repository';
import { IDENTIFIER_ENTITIES, IDENTIFIER_MIGRATIONS } from './schema';

export const IDENTIFIER_STREAM = defineStream({
  name: 'IDENTIFIER',
  subjects: ['cinode.identifier.>'],
  description: 'Identifier lifecycle events of the identifier service',
});

/** Root module of the identifier service. */
@Module({})
export class IdentifierModule {
  static forConfig(config: IdentifierConfig): DynamicModule {
    return {
      module: IdentifierModule,
      imports: [
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          entities: IDENTIFIER_ENTITIES,
          migrations: IDENTIFIER_MIGRATIONS,
          migrateOnStart: config.DB_MIGRATE_ON_START,
          applicationName: SERVICE_NAME,
          poolSize: config.DB_POOL_MAX,
        }),
        AuthModule.forRoot({
          publicKeys: config.AUTH_JWT_PUBLIC_KEYS,
          issuer: config.AUTH_JWT_ISSUER,
          audience: config.AUTH_JWT_AUDIENCE,
          jwksAddress: config.AUTH_JWKS_ADDRESS,
          serviceName: SERVICE_NAME,
          serviceSigningKey: config.AUTH_SERVICE_SIGNING_KEY,
        }),
        EventsModule.forRoot({
          natsUrl: config.NATS_URL,
          source: SERVICE_NAME,
          streams: [IDENTIFIER_STREAM],
        }),
      ],
      controllers: [IdentifiersGrpcController],
      providers: [
        { provide: IDENTIFIER_CONFIG, useValue: config },
        NationalNodeGateway,
        NodeRegistrationRepository,
        NodeRegistrationService,
        IdentifiersRepository,
        IdentifiersService,
        ParticipantsRepository,
        ParticipantEventsConsumer,
        FilingConsumer,
      ],
    };
  }
}
