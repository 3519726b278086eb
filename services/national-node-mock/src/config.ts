import manifest from '../service.json';
import {
  baseServiceSchema,
  envBoolean,
  envInt,
  type ServiceConfigDefinition,
  serviceAddressShape,
} from '@cinode/config';
import { NATIONAL_NODE_AUDIENCE } from '@cinode/auth';
import { z } from 'zod';

export const SERVICE_NAME = manifest.name;

const schema = baseServiceSchema.extend({
  ...serviceAddressShape(manifest),
  /**
   * The national node's own audience: it accepts tokens minted for it and refuses the ones a node
   * uses inside itself (audience `cinode`), whoever signed them.
   */
  AUTH_JWT_AUDIENCE: z.string().min(1).default(NATIONAL_NODE_AUDIENCE),
  /** The national identifier prefix put in front of every node code. */
  NATIONAL_PREFIX: z
    .string()
    .regex(/^[A-Z]{2,8}$/, 'must be 2 to 8 upper-case letters')
    .default('CN'),
  /** Share of NationalNodeService calls answered UNAVAILABLE at start-up (0 to 1). */
  FAULT_UNAVAILABLE_RATIO: z.coerce.number().min(0).max(1).default(0),
  /** Latency added to every NationalNodeService call at start-up. */
  FAULT_LATENCY_MS: envInt(0, 0, 60_000),
  /** Start in full outage. */
  FAULT_OUTAGE: envBoolean(false),
  /** Deadline of a special report request issued without one: this long after it is issued. */
  SPECIAL_REQUEST_DEADLINE_MS: envInt(60_000, 1_000, 7 * 24 * 3_600_000),
});

export type MockConfig = z.infer<typeof schema>;

export const mockConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
};
