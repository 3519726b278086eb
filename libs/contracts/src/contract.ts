import { z } from 'zod';

/**
 * A JetStream stream as its owner declares it. Producers create and update it; a consumer of
 * another service's stream only creates it when it is missing (so it may start first) and never
 * changes it: the owner's settings win.
 */
export interface StreamContract {
  /** Short, no dots, e.g. `PARTICIPANT`. */
  readonly name: string;
  /** e.g. `['cinode.participant.>']` */
  readonly subjects: readonly string[];
  /** The service that publishes on it and owns its settings. */
  readonly owner: string;
  readonly description: string;
  /** Messages older than this are removed (default 7 days). */
  readonly maxAgeMs?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped (default 2 minutes). */
  readonly duplicateWindowMs?: number;
}

/** One event type: its subject, the stream that carries it, and the schema of its data. */
export interface EventContract<T = unknown> {
  /** The subject and event type, `cinode.<domain>.<entity>.<past-tense-verb>`. */
  readonly type: string;
  readonly stream: StreamContract;
  /** Version of the data schema; bumped on incompatible changes. */
  readonly schemaVersion: number;
  readonly schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  readonly description: string;
}

/** A set of event types one consumer subscribes to with one subject filter. */
export interface EventSource<E extends EventContract = EventContract> {
  readonly stream: StreamContract;
  /** The consumer's subject filter, e.g. `cinode.participant.participant.>`. */
  readonly filterSubject: string;
  readonly events: readonly E[];
}

/** What a producer hands to the outbox: a type, its schema version and validated data. */
export interface EventMessage<T = unknown> {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: T;
}

/** An event a consumer received, typed by its contract. */
export type ReceivedEvent<E> =
  E extends EventContract<infer T>
    ? { readonly type: E['type']; readonly contract: E; readonly data: T }
    : never;

export type DataOf<E> = E extends EventContract<infer T> ? T : never;

/**
 * A string of `min` to `max` characters counted as the services count them (and as varchar does):
 * by code point, not UTF-16 unit, so a name the service accepted always fits its event.
 */
export function textOf(min: number, max: number) {
  return z.string().refine((v) => {
    const length = [...v].length;
    return length >= min && length <= max;
  }, `must be ${min} to ${max} characters`);
}

const STREAM_NAME = /^[A-Za-z0-9_-]+$/;
const EVENT_TYPE = /^cinode\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/;

export function isValidEventType(type: string): boolean {
  return EVENT_TYPE.test(type);
}

/** Whether a NATS subject filter (with `*` and `>` wildcards) matches a subject. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

export function defineStream(contract: StreamContract): StreamContract {
  if (!STREAM_NAME.test(contract.name)) {
    throw new Error(
      `stream name "${contract.name}" must be short and contain no dots, spaces or wildcards`,
    );
  }
  if (contract.subjects.length === 0)
    throw new Error(`stream ${contract.name} declares no subjects`);
  return Object.freeze({ ...contract, subjects: Object.freeze([...contract.subjects]) });
}

export function defineEvent<const Type extends string, T>(contract: {
  type: Type;
  stream: StreamContract;
  schemaVersion: number;
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  description: string;
}): EventContract<T> & { readonly type: Type } {
  if (!isValidEventType(contract.type)) {
    throw new Error(
      `event type "${contract.type}" is not cinode.<domain>.<entity>.<past-tense-verb>`,
    );
  }
  if (!contract.stream.subjects.some((s) => subjectMatches(s, contract.type))) {
    throw new Error(
      `event type ${contract.type} is not a subject of stream ${contract.stream.name}`,
    );
  }
  if (!Number.isInteger(contract.schemaVersion) || contract.schemaVersion < 1) {
    throw new Error(`${contract.type}: schemaVersion must be a positive integer`);
  }
  return Object.freeze({ ...contract });
}

export function defineEventSource<const E extends EventContract>(source: {
  stream: StreamContract;
  filterSubject: string;
  events: readonly E[];
}): EventSource<E> {
  for (const event of source.events) {
    if (event.stream.name !== source.stream.name)
      throw new Error(`${event.type} is not carried by stream ${source.stream.name}`);
    if (!subjectMatches(source.filterSubject, event.type))
      throw new Error(`${event.type} does not match the filter ${source.filterSubject}`);
  }
  return Object.freeze({ ...source, events: Object.freeze([...source.events]) });
}

/**
 * The message for the outbox. The data is checked against the contract here, at the producer, so
 * a service can never publish an event its consumers would have to dead-letter.
 */
export function eventOf<T>(contract: EventContract<T>, data: T): EventMessage<T> {
  const parsed = contract.schema.safeParse(data);
  if (!parsed.success) {
    throw new ContractViolationError(
      `${contract.type}: data does not match its contract: ${describeIssues(parsed.error)}`,
    );
  }
  return { type: contract.type, schemaVersion: contract.schemaVersion, data: parsed.data };
}

/** A producer tried to emit data its contract refuses: a bug, or input the service let through. */
export class ContractViolationError extends Error {
  override readonly name = 'ContractViolationError';
}

/** A received event that cannot be what its contract says: retrying cannot fix it. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

/**
 * Checks a received event against the source's contracts. An event type the source does not list
 * (a newer producer's addition) is `undefined`: not for this consumer. A listed type whose schema
 * version differs or whose data fails the schema is malformed.
 */
export function parseEvent<E extends EventContract>(
  source: EventSource<E>,
  event: { type: string; schemaVersion: number; data: unknown },
): ReceivedEvent<E> | undefined {
  const contract = source.events.find((e) => e.type === event.type);
  if (!contract) return undefined;
  if (event.schemaVersion !== contract.schemaVersion) {
    throw new MalformedEventError(
      `${event.type} has schema version ${event.schemaVersion}; this consumer knows version ${contract.schemaVersion}`,
    );
  }
  const parsed = contract.schema.safeParse(event.data);
  if (!parsed.success) {
    throw new MalformedEventError(
      `${event.type} data does not match its contract: ${describeIssues(parsed.error)}`,
    );
  }
  return { type: contract.type, contract, data: parsed.data } as ReceivedEvent<E>;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`)
    .join('; ');
}
