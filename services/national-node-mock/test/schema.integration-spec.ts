import { pendingSchemaChanges } from '@cinode/testing';
import { MOCK_SCHEMA } from '../src/schema';

describe('national-node-mock schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(await pendingSchemaChanges(MOCK_SCHEMA.entities, MOCK_SCHEMA.migrations)).toEqual([]);
  });
});
