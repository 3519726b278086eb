import { Logger } from '@nestjs/common';
import { DEAD_LETTER_STREAM, type StreamContract } from '@cinode/contracts';
import {
  DiscardPolicy,
  JetStreamManager,
  NatsError,
  RetentionPolicy,
  StorageType,
  StreamConfig,
  StreamInfo,
  nanos,
} from 'nats';

export const DEFAULT_STREAM_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** Deployment and test options on top of a contract (production streams are file-backed). */
export interface StreamOptions {
  storage?: 'file' | 'memory';
  /** Copies JetStream keeps of each stream (EVENT_STREAM_REPLICAS: 3 on a clustered NATS). */
  replicas?: number;
}

export function toStreamConfig(
  contract: StreamContract,
  options: StreamOptions = {},
): Partial<StreamConfig> & { name: string } {
  const maxAge = contract.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS;
  const window = contract.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  if (maxAge > 0 && window > maxAge)
    throw new Error(`stream ${contract.name}: duplicate window exceeds max age`);
  return {
    name: contract.name,
    subjects: [...contract.subjects],
    description: contract.description,
    retention: RetentionPolicy.Limits,
    storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAge),
    max_bytes: -1,
    max_msgs: -1,
    duplicate_window: nanos(window),
    num_replicas: options.replicas ?? 1,
  };
}

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
const STREAM_NAME_IN_USE = 10058;

export function isNotFound(error: unknown, apiCode: number): boolean {
  return error instanceof NatsError && error.api_error?.err_code === apiCode;
}
export const isStreamNotFound = (error: unknown): boolean => isNotFound(error, STREAM_NOT_FOUND);
export const isConsumerNotFound = (error: unknown): boolean =>
  isNotFound(error, CONSUMER_NOT_FOUND);

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (isStreamNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Creates the streams a service owns, or brings existing ones to the declaration. Settings an
 * operator scales on a live system (replicas) are kept when they are above the declaration.
 */
export async function ensureOwnedStreams(
  jsm: JetStreamManager,
  contracts: readonly StreamContract[],
  options: StreamOptions = {},
): Promise<void> {
  const logger = new Logger('Streams');
  for (const contract of contracts) {
    const config = toStreamConfig(contract, options);
    const live = await streamInfo(jsm, contract.name);
    if (!live) {
      await createStream(jsm, config);
      logger.log(`created stream ${config.name} (${contract.subjects.join(', ')})`);
      continue;
    }
    config.num_replicas = Math.max(config.num_replicas ?? 1, live.config.num_replicas);
    await jsm.streams.update(config.name, config);
  }
}

/**
 * Makes sure the streams a service consumes from (owned by other services, or the shared
 * dead-letter stream) exist, creating a missing one from its contract so services may start in any
 * order. Never updates one: the owner's settings win.
 */
export async function ensureConsumedStreams(
  jsm: JetStreamManager,
  contracts: readonly StreamContract[],
  options: StreamOptions = {},
): Promise<void> {
  for (const contract of contracts) {
    if (await streamInfo(jsm, contract.name)) continue;
    await createStream(jsm, toStreamConfig(contract, options));
  }
}

/** Adds a stream; another service creating it at the same moment is not an error. */
async function createStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (error) {
    if (isNotFound(error, STREAM_NAME_IN_USE) || (await streamInfo(jsm, config.name))) return;
    throw error;
  }
}

export { DEAD_LETTER_STREAM };
