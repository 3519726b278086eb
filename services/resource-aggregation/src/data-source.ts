// For the TypeORM CLI only (libs/database/scripts/db-migration-generate.mjs); the service builds its
// data source through the platform module.
import { createDataSource } from '@cinode/database';
import { RESOURCE_AGGREGATION_SCHEMA } from './schema';

export default createDataSource({
  url: process.env.DATABASE_URL ?? '',
  entities: RESOURCE_AGGREGATION_SCHEMA.entities,
  migrations: RESOURCE_AGGREGATION_SCHEMA.migrations,
});
