import manifest from '../service.json';
import type { ServiceDefinition } from '@cinode/kit';
import { ServiceCenterModule } from './app.module';
import {
  SECRET_KEYS,
  SERVICE_NAME,
  loadServiceCenterConfig,
  type ServiceCenterConfig,
} from './config';
import { SERVICE_CENTER_SCHEMA } from './schema';

/** The service center as main.ts runs it and tests start it. */
export const serviceCenter: ServiceDefinition<ServiceCenterConfig> = {
  name: SERVICE_NAME,
  loadConfig: loadServiceCenterConfig,
  secrets: SECRET_KEYS,
  module: (config) => ServiceCenterModule.forConfig(config),
  services: manifest.grpcServices,
  schema: SERVICE_CENTER_SCHEMA,
};
