import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/runtime';
import { IdentifierModule } from './app.module';
import { SERVICE_NAME, identifierConfigDefinition, loadIdentifierConfig } from './config';
import { IDENTIFIER_ENTITIES, IDENTIFIER_MIGRATIONS } from './schema';
import { SERVED_SERVICES } from './served-services';

runServiceMain({
  name: SERVICE_NAME,
  loadConfig: () => loadIdentifierConfig(),
  secrets: identifierConfigDefinition.secrets ?? [],
  module: (config) => IdentifierModule.forConfig(config),
  services: SERVED_SERVICES,
  entities: IDENTIFIER_ENTITIES,
  migrations: IDENTIFIER_MIGRATIONS,
});
