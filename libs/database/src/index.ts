export * from './data-source.factory';
export * from './migrations';
export * from './notification-listener';
export * from './pool-metrics';
export * from './database.module';
export * from './database.migration';
export * from './idempotency-key.entity';
export * from './platform-secret';
export * from './sql-state';
export * from './transaction';
export * from './typeorm-logger';
export * from './unit-of-work';

import { CreateIdempotencyKeys1796000000000 } from './database.migration';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { CreatePlatformSecrets1796200000000, PlatformSecretEntity } from './platform-secret';

/** List these among a service's entities and migrations (the platform's schema does it). */
export const DATABASE_ENTITIES = [IdempotencyKeyEntity, PlatformSecretEntity];
export const DATABASE_MIGRATIONS = [
  CreateIdempotencyKeys1796000000000,
  CreatePlatformSecrets1796200000000,
];
export * from './query-results';
