import { pendingSchemaChanges } from '@cinode/testing';
import { COMPUTE_SELECTION_SCHEMA } from '../src/schema';

describe('compute-selection schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(
      await pendingSchemaChanges(
        COMPUTE_SELECTION_SCHEMA.entities,
        COMPUTE_SELECTION_SCHEMA.migrations,
      ),
    ).toEqual([]);
  });
});
