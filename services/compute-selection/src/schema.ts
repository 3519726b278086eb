import { serviceSchema } from '@cinode/kit';

/**
 * The platform's tables only (idempotency keys, audit log, outbox, processed events): the offer
 * index lives in memory and is rebuilt from resource aggregation at every start.
 */
export const COMPUTE_SELECTION_SCHEMA = serviceSchema(
  { entities: [], migrations: [] },
  { events: true },
);
