import { pendingSchemaChanges } from '@cinode/testing';
import { IDENTIFIER_SCHEMA } from '../src/schema';

describe('identifier schema', () => {
  it('is exactly what the migrations create, the platform’s tables included', async () => {
    expect(
      await pendingSchemaChanges(IDENTIFIER_SCHEMA.entities, IDENTIFIER_SCHEMA.migrations),
    ).toEqual([]);
  });
});
