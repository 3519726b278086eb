import { pendingSchemaChanges } from '@cinode/testing';
import { SERVICE_CENTER_SCHEMA } from '../src/schema';

describe('service-center schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(
      await pendingSchemaChanges(SERVICE_CENTER_SCHEMA.entities, SERVICE_CENTER_SCHEMA.migrations),
    ).toEqual([]);
  });
});
