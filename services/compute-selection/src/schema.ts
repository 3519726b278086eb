import { serviceSchema } from '@cinode/kit';
import { LineHoldEntity } from './lines/line-hold.entity';
import { LineEntity, LineIdentifierEntity } from './lines/line.entity';
import { LinesSchema1796092719883 } from './migrations/1796092719883-lines-schema';
import { LineHolds1796900000000 } from './migrations/1796900000000-line-holds';
import { LineSpecVersion1797000000000 } from './migrations/1797000000000-line-spec-version';
import { LineSpecVersionDefault1797100000002 } from './migrations/1797100000002-line-spec-version-default';

/**
 * The dedicated lines, the filing of their identifiers and the bandwidth orders hold on them, with
 * the platform's tables (idempotency keys, audit log, outbox, processed events). The offer index lives in memory and is rebuilt from
 * resource aggregation at every start; the line table from these tables.
 */
export const COMPUTE_SELECTION_SCHEMA = serviceSchema(
  {
    entities: [LineEntity, LineIdentifierEntity, LineHoldEntity],
    migrations: [
      LinesSchema1796092719883,
      LineHolds1796900000000,
      LineSpecVersion1797000000000,
      LineSpecVersionDefault1797100000002,
    ],
  },
  { events: true },
);
