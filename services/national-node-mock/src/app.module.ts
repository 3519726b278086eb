import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@cinode/auth';
import { DatabaseModule } from '@cinode/database';
import { MOCK_CONFIG, SERVICE_NAME, type MockConfig } from './config';
import { FaultAdminGrpcController } from './faults/fault-admin.grpc-controller';
import { FaultInjectionService } from './faults/fault-injection.service';
import { FaultInterceptor } from './faults/fault.interceptor';
import { FilingsGrpcController } from './filings/filings.grpc-controller';
import { FilingsRepository } from './filings/filings.repository';
import { FilingsService } from './filings/filings.service';
import { NodesGrpcController } from './nodes/nodes.grpc-controller';
import { NodesRepository } from './nodes/nodes.repository';
import { NodesService } from './nodes/nodes.service';
import { ReportsGrpcController } from './reports/reports.grpc-controller';
import { ReportsRepository } from './reports/reports.repository';
import { ReportsService } from './reports/reports.service';
import { MOCK_ENTITIES, MOCK_MIGRATIONS } from './schema';

/** Root module of the national node mock. */
@Module({})
export class NationalNodeMockModule {
  static forConfig(config: MockConfig): DynamicModule {
    return {
      module: NationalNodeMockModule,
      imports: [
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          entities: MOCK_ENTITIES,
          migrations: MOCK_MIGRATIONS,
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
        }),
      ],
      controllers: [
        NodesGrpcController,
        FilingsGrpcController,
        ReportsGrpcController,
        FaultAdminGrpcController,
      ],
      providers: [
        { provide: MOCK_CONFIG, useValue: config },
        NodesRepository,
        NodesService,
        FilingsRepository,
        FilingsService,
        ReportsRepository,
        ReportsService,
        FaultInjectionService,
        FaultInterceptor,
      ],
    };
  }
}
