// For the TypeORM CLI only (libs/database/scripts/db-migration-generate.mjs); the service builds its
// data source through the platform module.
import { createDataSource } from '@cinode/database';
import { RUNTIME_MONITORING_SCHEMA } from './schema';

export default createDataSource({
  url: process.env.DATABASE_URL ?? '',
  entities: RUNTIME_MONITORING_SCHEMA.entities,
  migrations: RUNTIME_MONITORING_SCHEMA.migrations,
});
