// For the TypeORM CLI only (libs/database/scripts/db-migration-generate.mjs); the service builds its
// data source through the platform module.
import { createDataSource } from '@cinode/database';
import { IDENTIFIER_SCHEMA } from './schema';

export default createDataSource({
  url: process.env.DATABASE_URL ?? '',
  entities: IDENTIFIER_SCHEMA.entities,
  migrations: IDENTIFIER_SCHEMA.migrations,
});
