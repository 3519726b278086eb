import { context, propagation } from '@opentelemetry/api';
import { uuidv7 } from '@cinode/common';
import { nextEventId } from './event-ids';

/** W3C trace context as carried in NATS headers. */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

/** What travels on the wire for every domain event (the NATS message body, JSON). */
export interface EventEnvelope<T = unknown> {
  /** UUID v7: unique, and sortable by creation time. Also the Nats-Msg-Id. */
  id: string;
  /** The subject, `cinode.<domain>.<entity>.<past-tense-verb>`. */
  type: string;
  /** ISO-8601 time the event happened. */
  time: string;
  /** The producing service. */
  source: string;
  /** Version of `data`'s schema for this type; bumped on incompatible changes. */
  schemaVersion: number;
  data: T;
  /** Trace context of the operation that produced the event (also sent as NATS headers). */
  traceContext?: TraceContext;
}

export interface NewEvent<T = unknown> {
  type: string;
  data: T;
  schemaVersion?: number;
  id?: string;
  time?: Date;
}

export class InvalidEnvelopeError extends Error {
  override readonly name = 'InvalidEnvelopeError';
}

const EVENT_TYPE = /^cinode\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export { uuidv7 };

export function isValidEventType(type: string): boolean {
  return EVENT_TYPE.test(type);
}

/** The active trace context, serialised with the globally registered propagator (W3C by default in the SDK). */
export function captureTraceContext(): TraceContext | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const traceContext: TraceContext = {};
  if (carrier.traceparent) traceContext.traceparent = carrier.traceparent;
  if (carrier.tracestate) traceContext.tracestate = carrier.tracestate;
  return traceContext.traceparent ? traceContext : undefined;
}

export function createEnvelope<T>(source: string, event: NewEvent<T>): EventEnvelope<T> {
  if (!isValidEventType(event.type)) {
    throw new InvalidEnvelopeError(
      `event type "${event.type}" is not cinode.<domain>.<entity>.<past-tense-verb>`,
    );
  }
  if (!source) throw new InvalidEnvelopeError('event source is empty');
  const schemaVersion = event.schemaVersion ?? 1;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new InvalidEnvelopeError(
      `schemaVersion must be a positive integer, got ${schemaVersion}`,
    );
  }
  const envelope: EventEnvelope<T> = {
    id: event.id ?? nextEventId(),
    type: event.type,
    time: (event.time ?? new Date()).toISOString(),
    source,
    schemaVersion,
    data: event.data,
  };
  const traceContext = captureTraceContext();
  if (traceContext) envelope.traceContext = traceContext;
  return envelope;
}

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/** Parses and checks a message body; throws InvalidEnvelopeError for anything that is not an envelope. */
export function decodeEnvelope(bytes: Uint8Array): EventEnvelope<unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new InvalidEnvelopeError('message body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidEnvelopeError('message body is not a JSON object');
  }
  const o = parsed as Record<string, unknown>;
  if (typeof o.id !== 'string' || !UUID.test(o.id))
    throw new InvalidEnvelopeError('envelope id is not a UUID');
  if (typeof o.type !== 'string' || !isValidEventType(o.type))
    throw new InvalidEnvelopeError('envelope type is invalid');
  if (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time)))
    throw new InvalidEnvelopeError('envelope time is invalid');
  if (typeof o.source !== 'string' || o.source === '')
    throw new InvalidEnvelopeError('envelope source is missing');
  if (typeof o.schemaVersion !== 'number' || !Number.isInteger(o.schemaVersion)) {
    throw new InvalidEnvelopeError('envelope schemaVersion is invalid');
  }
  if (!('data' in o)) throw new InvalidEnvelopeError('envelope data is missing');
  const envelope: EventEnvelope<unknown> = {
    id: o.id,
    type: o.type,
    time: o.time,
    source: o.source,
    schemaVersion: o.schemaVersion,
    data: o.data,
  };
  const tc = o.traceContext;
  if (typeof tc === 'object' && tc !== null) {
    const t = tc as Record<string, unknown>;
    envelope.traceContext = {};
    if (typeof t.traceparent === 'string') envelope.traceContext.traceparent = t.traceparent;
    if (typeof t.tracestate === 'string') envelope.traceContext.tracestate = t.tracestate;
  }
  return envelope;
}
