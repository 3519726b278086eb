import manifest from '../service.json';
import type { ServiceDefinition } from '@cinode/kit';
import { ReportingModule } from './app.module';
import {
  SERVICE_NAME,
  reportingConfigDefinition,
  loadReportingConfig,
  type ReportingConfig,
} from './config';
import { REPORTING_SCHEMA } from './schema';

/** reporting as main.ts runs it and tests start it. */
export const reportingService: ServiceDefinition<ReportingConfig> = {
  name: SERVICE_NAME,
  loadConfig: loadReportingConfig,
  secrets: reportingConfigDefinition.secrets ?? [],
  module: (config) => ReportingModule.forConfig(config),
  services: manifest.grpcServices,
  schema: REPORTING_SCHEMA,
};
