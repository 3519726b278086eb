import '@cinode/telemetry/register';
import { ConfigError, redactConfig } from '@cinode/config';
import { runUntilSignalled, startGrpcService } from '@cinode/grpc';
import { createLogger } from '@cinode/logging';
import { ServiceCenterModule } from './app.module';
import {
  SECRET_KEYS,
  SERVICE_NAME,
  loadServiceCenterConfig,
  type ServiceCenterConfig,
} from './config';
import { runMigrationsOnly } from './migrate';
import { SERVED_SERVICES } from './served-services';

function configOrExit(): ServiceCenterConfig {
  try {
    return loadServiceCenterConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

const config = configOrExit();
const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });

if (process.argv[2] === 'migrate') {
  runMigrationsOnly(config, logger).then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'migrations failed');
      process.exit(1);
    },
  );
} else {
  logger.info({ config: redactConfig(config, SECRET_KEYS) }, 'starting');
  runUntilSignalled(() =>
    startGrpcService({
      name: SERVICE_NAME,
      module: ServiceCenterModule.forConfig(config),
      services: SERVED_SERVICES,
      config,
      logger,
    }),
  );
}
