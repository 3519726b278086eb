import '@cinode/telemetry/register';
import { ConfigError, redactConfig } from '@cinode/config';
import { runUntilSignalled, startGrpcService } from '@cinode/grpc';
import { createLogger } from '@cinode/logging';
import { runMigrationsOnly } from './migrate';
import {
  SERVICE_NAME,
  identifierConfigDefinition,
  loadIdentifierConfig,
  type IdentifierConfig,
} from './config';
import { IdentifierModule } from './app.module';
import { SERVED_SERVICES } from './served-services';

function configOrExit(): IdentifierConfig {
  try {
    return loadIdentifierConfig();
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
  logger.info(
    { config: redactConfig(config, identifierConfigDefinition.secrets ?? []) },
    'starting',
  );
  runUntilSignalled(() =>
    startGrpcService({
      name: SERVICE_NAME,
      module: IdentifierModule.forConfig(config),
      services: SERVED_SERVICES,
      config,
      logger,
    }),
  );
}
