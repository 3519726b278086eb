import { RetentionPolicy, StorageType, nanos } from 'nats';
import { deadLetterStream, deadLetterSubject, defineStream, toStreamConfig } from './streams';

describe('stream declarations', () => {
  it('rejects names with dots and empty subject lists', () => {
    expect(() => defineStream({ name: 'resource.pool', subjects: ['cinode.resource.>'] })).toThrow(
      /no dots/,
    );
    expect(() => defineStream({ name: 'RESOURCE', subjects: [] })).toThrow(/no subjects/);
  });

  it('rejects a duplicate window longer than the retention', () => {
    expect(() =>
      defineStream({
        name: 'X',
        subjects: ['cinode.x.>'],
        maxAgeMs: 1_000,
        duplicateWindowMs: 2_000,
      }),
    ).toThrow(/duplicate window/);
  });

  it('maps to a JetStream config with defaults', () => {
    const config = toStreamConfig({
      name: 'RESOURCE',
      subjects: ['cinode.resource.>'],
      duplicateWindowMs: 60_000,
    });
    expect(config).toMatchObject({
      name: 'RESOURCE',
      subjects: ['cinode.resource.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(60_000),
      max_age: nanos(7 * 24 * 3600 * 1000),
    });
  });

  it('names dead-letter subjects by consumer', () => {
    expect(deadLetterSubject('selection-pools')).toBe('cinode.dlq.selection-pools');
    expect(deadLetterStream().subjects).toEqual(['cinode.dlq.>']);
  });
});
