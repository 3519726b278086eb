// For the TypeORM CLI only (libs/database/scripts/db-migration-generate.mjs); the service builds its
// data source through the platform module.
import { createDataSource } from '@cinode/database';
import { SERVICE_CENTER_SCHEMA } from './schema';

export default createDataSource({
  url: process.env.DATABASE_URL ?? '',
  entities: SERVICE_CENTER_SCHEMA.entities,
  migrations: SERVICE_CENTER_SCHEMA.migrations,
});
