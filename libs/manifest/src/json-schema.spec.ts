import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_JSON_SCHEMA_PATH, manifestJsonSchema } from './json-schema';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

describe(manifestJsonSchema.name, () => {
  it('is what the committed JSON Schema says (regenerate: npx nx run manifest:json-schema)', () => {
    const committed: unknown = JSON.parse(
      readFileSync(join(WORKSPACE_ROOT, MANIFEST_JSON_SCHEMA_PATH), 'utf8'),
    );
    expect(committed).toEqual(manifestJsonSchema());
  });

  it('forbids unknown keys and requires the topology fields', () => {
    const schema = manifestJsonSchema();
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual([
      'name',
      'description',
      'grpcPort',
      'metricsPort',
      'grpcServices',
      'database',
      'events',
      'provides',
      'dependencies',
      'chart',
    ]);
  });
});
