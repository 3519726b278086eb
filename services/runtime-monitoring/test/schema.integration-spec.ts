import { pendingSchemaChanges } from '@cinode/testing';
import { RUNTIME_MONITORING_SCHEMA } from '../src/schema';

describe('runtime-monitoring schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(
      await pendingSchemaChanges(
        RUNTIME_MONITORING_SCHEMA.entities,
        RUNTIME_MONITORING_SCHEMA.migrations,
      ),
    ).toEqual([]);
  });
});
