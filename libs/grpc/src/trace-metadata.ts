import type { Metadata } from '@grpc/grpc-js';
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** Writes W3C trace context (traceparent, tracestate) into gRPC metadata. */
export const METADATA_SETTER: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

/** Reads W3C trace context from gRPC metadata. */
export const METADATA_GETTER: TextMapGetter<Metadata | undefined> = {
  keys: (metadata) => (metadata ? Object.keys(metadata.getMap()) : []),
  get: (metadata, key) => {
    const values = metadata?.get(key) ?? [];
    if (values.length === 0) return undefined;
    const strings = values.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
    return strings.length === 1 ? strings[0] : strings;
  },
};
