import { Logger } from '@nestjs/common';
import {
  DiscardPolicy,
  JetStreamManager,
  NatsError,
  RetentionPolicy,
  StorageType,
  StreamConfig,
  nanos,
} from 'nats';

/** A JetStream stream as a service declares it in code. */
export interface StreamDeclaration {
  /** Short, no dots, e.g. `RESOURCE`. */
  name: string;
  /** e.g. `['cinode.resource.>']` */
  subjects: string[];
  description?: string;
  retention?: 'limits' | 'interest' | 'workqueue';
  storage?: 'file' | 'memory';
  /** Messages older than this are removed (default 7 days). */
  maxAgeMs?: number;
  maxBytes?: number;
  maxMsgs?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped (default 2 minutes). */
  duplicateWindowMs?: number;
  replicas?: number;
}

export const DEFAULT_STREAM_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
export const DEAD_LETTER_SUBJECT_PREFIX = 'cinode.dlq';

const NAME = /^[A-Za-z0-9_-]+$/;

/** Checks a declaration up front, so a typo fails at start-up with a clear message. */
export function defineStream(declaration: StreamDeclaration): StreamDeclaration {
  if (!NAME.test(declaration.name)) {
    throw new Error(
      `stream name "${declaration.name}" must be short and contain no dots, spaces or wildcards`,
    );
  }
  if (declaration.subjects.length === 0)
    throw new Error(`stream ${declaration.name} declares no subjects`);
  const maxAge = declaration.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS;
  const window = declaration.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  if (maxAge > 0 && window > maxAge) {
    throw new Error(`stream ${declaration.name}: duplicate window exceeds max age`);
  }
  return declaration;
}

/** Dead-letter subject of one consumer. */
export function deadLetterSubject(
  consumer: string,
  prefix: string = DEAD_LETTER_SUBJECT_PREFIX,
): string {
  return `${prefix}.${consumer}`;
}

/** The stream that keeps parked messages; long retention, since a person has to look at them. */
export function deadLetterStream(
  name = 'DLQ',
  subjects: string[] = [`${DEAD_LETTER_SUBJECT_PREFIX}.>`],
  maxAgeMs = 30 * 24 * 3600 * 1000,
): StreamDeclaration {
  return defineStream({
    name,
    subjects,
    maxAgeMs,
    description: 'Parked poison messages, by consumer',
  });
}

function retention(value: StreamDeclaration['retention']): RetentionPolicy {
  switch (value) {
    case 'interest':
      return RetentionPolicy.Interest;
    case 'workqueue':
      return RetentionPolicy.Workqueue;
    case 'limits':
    case undefined:
      return RetentionPolicy.Limits;
  }
}

export function toStreamConfig(d: StreamDeclaration): Partial<StreamConfig> & { name: string } {
  return {
    name: d.name,
    subjects: d.subjects,
    description: d.description,
    retention: retention(d.retention),
    storage: d.storage === 'memory' ? StorageType.Memory : StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(d.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS),
    max_bytes: d.maxBytes ?? -1,
    max_msgs: d.maxMsgs ?? -1,
    duplicate_window: nanos(d.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    num_replicas: d.replicas ?? 1,
  };
}

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

export function isNotFound(error: unknown, apiCode: number): boolean {
  return error instanceof NatsError && error.api_error?.err_code === apiCode;
}
export const isStreamNotFound = (error: unknown): boolean => isNotFound(error, STREAM_NOT_FOUND);
export const isConsumerNotFound = (error: unknown): boolean =>
  isNotFound(error, CONSUMER_NOT_FOUND);

/** Creates missing streams and updates existing ones to match the declarations; safe to run on every start. */
export async function ensureStreams(
  jsm: JetStreamManager,
  declarations: StreamDeclaration[],
): Promise<void> {
  const logger = new Logger('Streams');
  for (const declaration of declarations) {
    const config = toStreamConfig(defineStream(declaration));
    try {
      await jsm.streams.info(config.name);
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
      await jsm.streams.add(config);
      logger.log(`created stream ${config.name} (${declaration.subjects.join(', ')})`);
      continue;
    }
    await jsm.streams.update(config.name, config);
  }
}
