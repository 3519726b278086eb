import '@cinode/telemetry/register';
import { ConfigError, loadConfig, redactConfig } from '@cinode/config';
import { runUntilSignalled, startGrpcService } from '@cinode/grpc';
import { createLogger } from '@cinode/logging';
import { runMigrationsOnly } from './migrate';
import { SERVICE_NAME, mockConfigDefinition, type MockConfig } from './config';
import { NationalNodeMockModule } from './app.module';
import { SERVED_SERVICES } from './served-services';

function configOrExit(): MockConfig {
  try {
    return loadConfig(mockConfigDefinition);
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
  logger.info({ config: redactConfig(config, mockConfigDefinition.secrets ?? []) }, 'starting');
  runUntilSignalled(() =>
    startGrpcService({
      name: SERVICE_NAME,
      module: NationalNodeMockModule.forConfig(config),
      services: SERVED_SERVICES,
      config,
      logger,
    }),
  );
}
