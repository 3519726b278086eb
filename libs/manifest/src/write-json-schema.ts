// Regenerates service-manifest.schema.json from the zod schema: `npx nx run manifest:json-schema`.
// The unit test json-schema.spec.ts fails while the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_JSON_SCHEMA_PATH, manifestJsonSchema } from './json-schema';

const workspaceRoot = resolve(process.argv[2] ?? process.cwd());
const target = join(workspaceRoot, MANIFEST_JSON_SCHEMA_PATH);
writeFileSync(target, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
