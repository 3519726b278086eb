import { pendingSchemaChanges } from '@cinode/testing';
import { RESOURCE_AGGREGATION_SCHEMA } from '../src/schema';

describe('resource-aggregation schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(
      await pendingSchemaChanges(
        RESOURCE_AGGREGATION_SCHEMA.entities,
        RESOURCE_AGGREGATION_SCHEMA.migrations,
      ),
    ).toEqual([]);
  });
});
