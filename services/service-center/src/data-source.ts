// For the TypeORM CLI only (libs/database/scripts/db-migration-generate.mjs); the service builds its
// data source through DatabaseModule.
import { createDataSource } from '@cinode/database';
import { SERVICE_CENTER_ENTITIES, SERVICE_CENTER_MIGRATIONS } from './schema';

export default createDataSource({
  url: process.env.DATABASE_URL ?? '',
  entities: SERVICE_CENTER_ENTITIES,
  migrations: SERVICE_CENTER_MIGRATIONS,
});
