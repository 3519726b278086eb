import { pendingSchemaChanges } from '@cinode/testing';
import { SERVICE_CENTER_ENTITIES, SERVICE_CENTER_MIGRATIONS } from '../src/schema';

describe('service-center schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(await pendingSchemaChanges(SERVICE_CENTER_ENTITIES, SERVICE_CENTER_MIGRATIONS)).toEqual(
      [],
    );
  });
});
