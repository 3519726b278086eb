import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/runtime';
import { ServiceCenterModule } from './app.module';
import { SECRET_KEYS, SERVICE_NAME, loadServiceCenterConfig } from './config';
import { SERVICE_CENTER_ENTITIES, SERVICE_CENTER_MIGRATIONS } from './schema';
import { SERVED_SERVICES } from './served-services';

runServiceMain({
  name: SERVICE_NAME,
  loadConfig: () => loadServiceCenterConfig(),
  secrets: SECRET_KEYS,
  module: (config) => ServiceCenterModule.forConfig(config),
  services: SERVED_SERVICES,
  entities: SERVICE_CENTER_ENTITIES,
  migrations: SERVICE_CENTER_MIGRATIONS,
});
