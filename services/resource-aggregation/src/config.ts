import manifest from '../service.json';
import {
  baseServiceSchema,
  envInt,
  eventsConfigShape,
  loadConfig,
  type ConfigProblem,
  type ServiceConfigDefinition,
  serviceAddressShape,
} from '@cinode/config';
import { z } from 'zod';

export const SERVICE_NAME = manifest.name;

const schema = baseServiceSchema.extend({
  ...eventsConfigShape,
  ...serviceAddressShape(manifest),
  /** host:port of the identifier service, which issues every pool's identifier. */
  IDENTIFIER_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each call to the identifier service. */
  IDENTIFIER_TIMEOUT_MS: envInt(5_000, 100, 60_000),
  /** A pool without a snapshot or heartbeat for this long is STALE and leaves selection. */
  POOL_STALE_AFTER_SECONDS: envInt(90, 1, 86_400),
  /** ... and OFFLINE after this long. */
  POOL_OFFLINE_AFTER_SECONDS: envInt(600, 1, 7 * 86_400),
  /** How often pools' liveness and holds' expiry are checked (every replica; each change once). */
  SWEEP_INTERVAL_MS: envInt(5_000, 50, 600_000),
  /** Days of one-minute inventory history kept. */
  HISTORY_RETENTION_DAYS: envInt(30, 1, 3_650),
  /** Hold lifetime when CreateHold sets none. */
  HOLD_DEFAULT_TTL_SECONDS: envInt(300, 1, 3_600),
  /**
   * An allocation its provider has not started (still pending) this long after its order was
   * confirmed, on a pool that has stopped reporting (stale or offline), fails, and its capacity goes
   * back to the pool: a provider whose agent is gone cannot keep the capacity held for ever.
   */
  ALLOCATION_START_TIMEOUT_SECONDS: envInt(900, 1, 7 * 86_400),
  /**
   * A cancelled order's capacity stays held until its provider reports the task stopped, or this
   * long after the cancellation: an agent that never answers cannot keep it for ever, and one that
   * does frees it as soon as the task is down.
   */
  ALLOCATION_STOP_GRACE_SECONDS: envInt(120, 1, 86_400),
});

export type ResourceAggregationConfig = z.infer<typeof schema>;

function rules(config: ResourceAggregationConfig): ConfigProblem[] {
  return config.POOL_OFFLINE_AFTER_SECONDS <= config.POOL_STALE_AFTER_SECONDS
    ? [{ key: 'POOL_OFFLINE_AFTER_SECONDS', problem: 'must be above POOL_STALE_AFTER_SECONDS' }]
    : [];
}

export const resourceAggregationConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
  rules,
  secrets: [],
};

/** Validates the environment; throws a ConfigError listing every bad key. */
export function loadResourceAggregationConfig(
  env: NodeJS.ProcessEnv = process.env,
): ResourceAggregationConfig {
  return loadConfig(resourceAggregationConfigDefinition, env);
}
