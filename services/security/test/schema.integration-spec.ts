import { pendingSchemaChanges } from '@cinode/testing';
import { SECURITY_SCHEMA } from '../src/schema';

describe('security schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(
      await pendingSchemaChanges(SECURITY_SCHEMA.entities, SECURITY_SCHEMA.migrations),
    ).toEqual([]);
  });
});
