import '@cinode/telemetry/register';
import { loadConfig } from '@cinode/config';
import { runServiceMain } from '@cinode/runtime';
import { NationalNodeMockModule } from './app.module';
import { SERVICE_NAME, mockConfigDefinition } from './config';
import { MOCK_ENTITIES, MOCK_MIGRATIONS } from './schema';
import { SERVED_SERVICES } from './served-services';

runServiceMain({
  name: SERVICE_NAME,
  loadConfig: () => loadConfig(mockConfigDefinition),
  secrets: mockConfigDefinition.secrets ?? [],
  module: (config) => NationalNodeMockModule.forConfig(config),
  services: SERVED_SERVICES,
  entities: MOCK_ENTITIES,
  migrations: MOCK_MIGRATIONS,
});
