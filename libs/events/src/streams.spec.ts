import { DEAD_LETTER_STREAM, defineStream } from '@cinode/contracts';
import { RetentionPolicy, StorageType, nanos } from 'nats';
import { toStreamConfig } from './streams';

describe('stream configs', () => {
  it('rejects a duplicate window longer than the retention', () => {
    const stream = defineStream({
      name: 'X',
      subjects: ['cinode.x.>'],
      owner: 'x',
      description: '',
      maxAgeMs: 1_000,
      duplicateWindowMs: 2_000,
    });
    expect(() => toStreamConfig(stream)).toThrow(/duplicate window/);
  });

  it('maps a contract to a JetStream config with defaults', () => {
    const config = toStreamConfig(
      defineStream({
        name: 'RESOURCE',
        subjects: ['cinode.resource.>'],
        owner: 'resource-aggregation',
        description: 'pools',
        duplicateWindowMs: 60_000,
      }),
    );
    expect(config).toMatchObject({
      name: 'RESOURCE',
      subjects: ['cinode.resource.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(60_000),
      max_age: nanos(7 * 24 * 3600 * 1000),
      num_replicas: 1,
    });
  });

  it('takes the number of replicas from the deployment (EVENT_STREAM_REPLICAS)', () => {
    expect(toStreamConfig(DEAD_LETTER_STREAM, { replicas: 3 })).toMatchObject({ num_replicas: 3 });
  });

  it('keeps parked messages for 30 days', () => {
    expect(toStreamConfig(DEAD_LETTER_STREAM)).toMatchObject({
      subjects: ['cinode.dlq.>'],
      max_age: nanos(30 * 24 * 3600 * 1000),
    });
  });
});
