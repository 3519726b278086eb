import manifest from '../service.json';
import type { ServiceDefinition } from '@cinode/kit';
import { RuntimeMonitoringModule } from './app.module';
import {
  SERVICE_NAME,
  runtimeMonitoringConfigDefinition,
  loadRuntimeMonitoringConfig,
  type RuntimeMonitoringConfig,
} from './config';
import { RUNTIME_MONITORING_SCHEMA } from './schema';

/** runtime-monitoring as main.ts runs it and tests start it. */
export const runtimeMonitoringService: ServiceDefinition<RuntimeMonitoringConfig> = {
  name: SERVICE_NAME,
  loadConfig: loadRuntimeMonitoringConfig,
  secrets: runtimeMonitoringConfigDefinition.secrets ?? [],
  module: (config) => RuntimeMonitoringModule.forConfig(config),
  services: manifest.grpcServices,
  schema: RUNTIME_MONITORING_SCHEMA,
};
