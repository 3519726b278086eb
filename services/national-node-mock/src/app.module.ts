import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@cinode/kit';
import { SERVICE_NAME, type MockConfig } from './config';
import { FaultsModule } from './faults/faults.module';
import { FilingsModule } from './filings/filings.module';
import { NodesModule } from './nodes/nodes.module';
import { ComplianceModule } from './compliance/compliance.module';
import { ReportsModule } from './reports/reports.module';
import { SigningKeysModule } from './signing-keys/signing-keys.module';
import { SpecialRequestsModule } from './special-requests/special-requests.module';
import { MOCK_SCHEMA } from './schema';

/** Root module of the national node mock: the platform (without events) and its features. */
@Module({})
export class NationalNodeMockModule {
  static forConfig(config: MockConfig): DynamicModule {
    return {
      module: NationalNodeMockModule,
      imports: [
        PlatformModule.forService({ service: SERVICE_NAME, config, schema: MOCK_SCHEMA }),
        FaultsModule,
        NodesModule,
        FilingsModule,
        SigningKeysModule,
        SpecialRequestsModule,
        ReportsModule,
        ComplianceModule,
      ],
    };
  }
}
