import { pendingSchemaChanges } from '@cinode/testing';
import { REPORTING_SCHEMA } from '../src/schema';

describe('reporting schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(
      await pendingSchemaChanges(REPORTING_SCHEMA.entities, REPORTING_SCHEMA.migrations),
    ).toEqual([]);
  });
});
