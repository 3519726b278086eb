import { TextMapGetter } from '@opentelemetry/api';
import { MsgHdrs, headers } from 'nats';
import { EventEnvelope } from './envelope';

export const EVENT_TYPE_HEADER = 'Cinode-Event-Type';
export const EVENT_SOURCE_HEADER = 'Cinode-Event-Source';

/** Lets the OpenTelemetry propagator read W3C trace context from NATS message headers. */
export const natsHeadersGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => {
    if (!carrier || !carrier.has(key)) return undefined;
    const values = carrier.values(key);
    return values.length > 1 ? values : values[0];
  },
};

/** Headers of a published event: trace context from when it was enqueued, plus type and source for routing tools. */
export function envelopeHeaders(envelope: EventEnvelope): MsgHdrs {
  const h = headers();
  h.set(EVENT_TYPE_HEADER, envelope.type);
  h.set(EVENT_SOURCE_HEADER, envelope.source);
  if (envelope.traceContext?.traceparent) h.set('traceparent', envelope.traceContext.traceparent);
  if (envelope.traceContext?.tracestate) h.set('tracestate', envelope.traceContext.tracestate);
  return h;
}
