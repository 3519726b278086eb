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
import { parseProvinceMatrix } from '@cinode/selection';

export const SERVICE_NAME = manifest.name;

const schema = baseServiceSchema.extend({
  ...eventsConfigShape,
  ...serviceAddressShape(manifest),
  /** host:port of resource aggregation, whose pools the index is built from at start. */
  RESOURCE_AGGREGATION_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each ListPools page while the index is built. */
  RESOURCE_AGGREGATION_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /** host:port of the identifier service, which issues every line's identifier. */
  IDENTIFIER_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each call to the identifier service. */
  IDENTIFIER_TIMEOUT_MS: envInt(5_000, 100, 60_000),
  /** Estimated latency within one region, within one province, and between other provinces. */
  LATENCY_SAME_REGION_MS: envInt(2, 0, 60_000),
  LATENCY_SAME_PROVINCE_MS: envInt(5, 0, 60_000),
  LATENCY_DEFAULT_MS: envInt(35, 0, 60_000),
  /**
   * Latency between pairs of provinces (first two digits of the region code), as JSON:
   * {"31-11": 28, "31-44": 30}. Pairs not listed take LATENCY_DEFAULT_MS.
   */
  LATENCY_PROVINCE_MATRIX: z.string().default(''),
  /**
   * How much V8 lets the old generation grow past what survived its last full collection before
   * collecting again, in percent; 0 leaves it to V8 (up to 300%). The heap holds the offer index
   * (about 80 MB with 100,000 pools) and, under load, the garbage of every call: left to V8 it
   * grows to several hundred MB resident after a burst of calls, past the service's memory budget
   * (300 MB with 100,000 pools); bounded, full collections come more often.
   */
  HEAP_GROWING_PERCENT: envInt(25, 0, 1_000),
  /**
   * Select answers kept for repeated questions while neither pools nor lines change (any change
   * drops them all); 0 turns the cache off. Under live inventory it rarely hits: every snapshot is
   * a change.
   */
  SELECT_ANSWER_CACHE_SIZE: envInt(1_024, 0, 100_000),
  /**
   * Lines one line provider may have: every line is in every replica's memory and in the paths a
   * Select weighs, so one provider must not be able to flood them.
   */
  MAX_LINES_PER_PROVIDER: envInt(1_000, 1, 1_000_000),
  /**
   * Token subjects of the services that place orders, comma-separated: only they hold and confirm a
   * line's bandwidth (any other node service could otherwise take a line's bandwidth for itself).
   */
  LINE_HOLD_CALLERS: z.string().min(1).default('service-center'),
  /** How often line holds past their time are expired (and their bandwidth given back). */
  LINE_HOLD_SWEEP_INTERVAL_MS: envInt(5_000, 100, 600_000),
});

export type ComputeSelectionConfig = z.infer<typeof schema>;

function rules(config: ComputeSelectionConfig): ConfigProblem[] {
  try {
    parseProvinceMatrix(config.LATENCY_PROVINCE_MATRIX);
    return [];
  } catch (error) {
    return [{ key: 'LATENCY_PROVINCE_MATRIX', problem: (error as Error).message }];
  }
}

export const computeSelectionConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
  rules,
  secrets: [],
};

/** Validates the environment; throws a ConfigError listing every bad key. */
export function loadComputeSelectionConfig(
  env: NodeJS.ProcessEnv = process.env,
): ComputeSelectionConfig {
  return loadConfig(computeSelectionConfigDefinition, env);
}
