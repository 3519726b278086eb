import { AUDIT_ENTITIES, AUDIT_MIGRATIONS } from '@cinode/audit';
import { DATABASE_ENTITIES, DATABASE_MIGRATIONS } from '@cinode/database';
import { EVENT_ENTITIES, EVENT_MIGRATIONS } from '@cinode/events';
import type { MigrationInterface } from 'typeorm';

/** Entity classes and migration classes, as TypeORM takes them. */
export interface ServiceSchema {
  entities: (new () => object)[];
  migrations: (new () => MigrationInterface)[];
}

/**
 * A service's entities and migrations together with the platform's (idempotency keys, the audit
 * log, and the outbox and processed-event tables when it has events). The same lists serve the
 * service, its `migrate` command, the TypeORM CLI and its schema test.
 */
export function serviceSchema(
  own: { entities: ServiceSchema['entities']; migrations: ServiceSchema['migrations'] },
  options: { events: boolean },
): ServiceSchema {
  return {
    entities: [
      ...DATABASE_ENTITIES,
      ...AUDIT_ENTITIES,
      ...(options.events ? EVENT_ENTITIES : []),
      ...own.entities,
    ],
    migrations: [
      ...(options.events ? EVENT_MIGRATIONS : []),
      ...DATABASE_MIGRATIONS,
      ...AUDIT_MIGRATIONS,
      ...own.migrations,
    ],
  };
}
