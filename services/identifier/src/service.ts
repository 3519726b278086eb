import manifest from '../service.json';
import type { ServiceDefinition } from '@cinode/kit';
import { IdentifierModule } from './app.module';
import {
  SERVICE_NAME,
  identifierConfig,
  loadIdentifierConfig,
  type IdentifierConfig,
} from './config';
import { IDENTIFIER_SCHEMA } from './schema';

/** The identifier service, for main.ts and for tests that start it in process. */
export const identifierService: ServiceDefinition<IdentifierConfig> = {
  name: SERVICE_NAME,
  loadConfig: loadIdentifierConfig,
  secrets: identifierConfig.secrets ?? [],
  module: (config) => IdentifierModule.forConfig(config),
  services: manifest.grpcServices,
  schema: IDENTIFIER_SCHEMA,
};
