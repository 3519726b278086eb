// For the TypeORM CLI only (libs/database/scripts/db-migration-generate.mjs); the service builds its
// data source through the platform module.
import { createDataSource } from '@cinode/database';
import { REPORTING_SCHEMA } from './schema';

export default createDataSource({
  url: process.env.DATABASE_URL ?? '',
  entities: REPORTING_SCHEMA.entities,
  migrations: REPORTING_SCHEMA.migrations,
});
