import { serviceSchema } from '@cinode/kit';
import { LineEntity, LineIdentifierEntity } from './lines/line.entity';
import { LinesSchema1796092719883 } from './migrations/1796092719883-lines-schema';

/**
 * The dedicated lines and the filing of their identifiers, with the platform's tables (idempotency
 * keys, audit log, outbox, processed events). The offer index lives in memory and is rebuilt from
 * resource aggregation at every start; the line table from these tables.
 */
export const COMPUTE_SELECTION_SCHEMA = serviceSchema(
  { entities: [LineEntity, LineIdentifierEntity], migrations: [LinesSchema1796092719883] },
  { events: true },
);
