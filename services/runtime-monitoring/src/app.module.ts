import { DynamicModule, Module } from '@nestjs/common';
import { MONITORING_STREAM } from '@cinode/contracts';
import { PlatformModule } from '@cinode/kit';
import { MonitoringModule } from './api/monitoring.module';
import { SERVICE_NAME, type RuntimeMonitoringConfig } from './config';
import { RUNTIME_MONITORING_SCHEMA } from './schema';

/** Root module of runtime monitoring: the platform with its events, and monitoring itself. */
@Module({})
export class RuntimeMonitoringModule {
  static forConfig(config: RuntimeMonitoringConfig): DynamicModule {
    return {
      module: RuntimeMonitoringModule,
      imports: [
        PlatformModule.forService({
          service: SERVICE_NAME,
          config,
          schema: RUNTIME_MONITORING_SCHEMA,
          events: { owns: [MONITORING_STREAM] },
        }),
        MonitoringModule,
      ],
    };
  }
}
