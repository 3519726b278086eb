import manifest from '../service.json';
import type { ServiceDefinition } from '@cinode/kit';
import { SecurityModule } from './app.module';
import {
  SERVICE_NAME,
  securityConfigDefinition,
  loadSecurityConfig,
  type SecurityConfig,
} from './config';
import { SECURITY_SCHEMA } from './schema';

/** security as main.ts runs it and tests start it. */
export const securityService: ServiceDefinition<SecurityConfig> = {
  name: SERVICE_NAME,
  loadConfig: loadSecurityConfig,
  secrets: securityConfigDefinition.secrets ?? [],
  module: (config) => SecurityModule.forConfig(config),
  services: manifest.grpcServices,
  schema: SECURITY_SCHEMA,
};
