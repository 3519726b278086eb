import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@cinode/kit';
import { SERVICE_NAME, type ReportingConfig } from './config';
import { ReportsModule } from './reports/reports.module';
import { REPORTING_SCHEMA } from './schema';

/** Root module of reporting: the platform (without events) and the reports feature. */
@Module({})
export class ReportingModule {
  static forConfig(config: ReportingConfig): DynamicModule {
    return {
      module: ReportingModule,
      imports: [
        PlatformModule.forService({ service: SERVICE_NAME, config, schema: REPORTING_SCHEMA }),
        ReportsModule,
      ],
    };
  }
}
