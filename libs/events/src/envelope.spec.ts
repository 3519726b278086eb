import { ROOT_CONTEXT, TraceFlags, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InvalidEnvelopeError,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  isValidEventType,
  uuidv7,
} from './envelope';

describe('event envelope', () => {
  it('accepts cinode.<domain>.<entity>.<verb> types only', () => {
    expect(isValidEventType('cinode.resource.pool.updated')).toBe(true);
    expect(isValidEventType('cinode.resource.pool')).toBe(false);
    expect(isValidEventType('cinode.Resource.pool.updated')).toBe(false);
    expect(isValidEventType('other.resource.pool.updated')).toBe(false);
    expect(isValidEventType('cinode.resource.pool.*')).toBe(false);
    expect(() => createEnvelope('svc', { type: 'cinode.resource', data: {} })).toThrow(
      InvalidEnvelopeError,
    );
  });

  it('generates time-ordered UUID v7 ids', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBe(1_700_000_000_000);
  });

  it('round-trips through encode and decode', () => {
    const envelope = createEnvelope('service-center', {
      type: 'cinode.participant.participant.certified',
      data: { participantId: 'p-1', roles: ['provider'] },
      schemaVersion: 2,
      time: new Date('2025-01-02T03:04:05.000Z'),
    });
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded).toEqual(envelope);
    expect(decoded.source).toBe('service-center');
    expect(decoded.schemaVersion).toBe(2);
    expect(decoded.time).toBe('2025-01-02T03:04:05.000Z');
  });

  it('rejects bodies that are not envelopes', () => {
    const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
    const valid = createEnvelope('svc', { type: 'cinode.a.b.created', data: 1 });
    expect(() => decodeEnvelope(Buffer.from('not json'))).toThrow(InvalidEnvelopeError);
    expect(() => decodeEnvelope(bytes([1, 2]))).toThrow(InvalidEnvelopeError);
    expect(() => decodeEnvelope(bytes({ ...valid, id: 'nope' }))).toThrow(/id/);
    expect(() => decodeEnvelope(bytes({ ...valid, type: 'x' }))).toThrow(/type/);
    expect(() => decodeEnvelope(bytes({ ...valid, time: 'yesterday' }))).toThrow(/time/);
    const { data: _data, ...withoutData } = valid;
    expect(() => decodeEnvelope(bytes(withoutData))).toThrow(/data/);
  });

  describe('trace context', () => {
    const manager = new AsyncLocalStorageContextManager();
    beforeAll(() => {
      context.setGlobalContextManager(manager.enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    });
    afterAll(() => {
      context.disable();
      propagation.disable();
    });

    it('captures the active W3C trace context', () => {
      const spanContext = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      };
      const envelope = context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () =>
        createEnvelope('svc', { type: 'cinode.a.b.created', data: null }),
      );
      expect(envelope.traceContext?.traceparent).toBe(
        '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      );
    });

    it('omits it when there is no active trace', () => {
      expect(
        createEnvelope('svc', { type: 'cinode.a.b.created', data: null }).traceContext,
      ).toBeUndefined();
    });
  });
});
