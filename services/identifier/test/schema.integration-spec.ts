import { pendingSchemaChanges } from '@cinode/testing';
import { IDENTIFIER_ENTITIES, IDENTIFIER_MIGRATIONS } from '../src/schema';

describe('identifier schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(await pendingSchemaChanges(IDENTIFIER_ENTITIES, IDENTIFIER_MIGRATIONS)).toEqual([]);
  });
});
