import { pendingSchemaChanges } from '@cinode/testing';
import { MOCK_ENTITIES, MOCK_MIGRATIONS } from '../src/schema';

describe('national-node-mock schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(await pendingSchemaChanges(MOCK_ENTITIES, MOCK_MIGRATIONS)).toEqual([]);
  });
});
