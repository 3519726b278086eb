import { z } from 'zod/v4';
import { serviceManifestSchema } from './service-manifest';

/** Workspace-relative path of the JSON Schema that every service.json names in `$schema`. */
export const MANIFEST_JSON_SCHEMA_PATH = 'libs/manifest/service-manifest.schema.json';

/**
 * The manifest's JSON Schema, generated from the zod schema. Draft 7 because that is the draft
 * editors validate best. Rules spanning several files (see validateManifests) are not in it.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(serviceManifestSchema, { target: 'draft-7' }),
    title: 'cinode service manifest (services/<name>/service.json)',
  };
}
