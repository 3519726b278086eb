import { decodeEnvelope, encodeEnvelope } from '../envelope';
import { OutboxRelay, encodeClaimedRow, envelopeFromRow, type OutboxRow } from './outbox.relay';
import type { DataSource } from 'typeorm';
import type { JetStreamClient } from 'nats';

const row: OutboxRow = {
  id: '0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
  type: 'cinode.resource.pool.updated',
  source: 'resource-aggregation',
  schema_version: 2,
  occurred_at: new Date('2026-12-01T03:00:00.123Z'),
  data: { poolId: 'CN.R0001.RP.000000011', free: [1, 2.5, null], name: 'ä "quoted" \\ pool' },
  trace_context: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
};

describe(encodeClaimedRow.name, () => {
  it('writes the envelope encodeEnvelope writes, with the data as the outbox holds its text', () => {
    // Rows written as jsonb (before OutboxDataText) hold jsonb's spelling (spaces, its own key
    // order): the same value.
    const dataJson =
      '{"free": [1, 2.5, null], "name": "ä \\"quoted\\" \\\\ pool", "poolId": "CN.R0001.RP.000000011"}';
    const body = encodeClaimedRow({ ...row, data_json: dataJson });
    expect(decodeEnvelope(body)).toEqual(decodeEnvelope(encodeEnvelope(envelopeFromRow(row))));
    expect(Object.keys(JSON.parse(Buffer.from(body).toString('utf8')) as object)).toEqual([
      'id',
      'type',
      'time',
      'source',
      'schemaVersion',
      'data',
      'traceContext',
    ]);
  });

  it('refuses data that did not arrive as text (a jsonb column the driver parsed)', () => {
    const parsed = { ...row, data_json: row.data as string };
    expect(() => encodeClaimedRow(parsed)).toThrow('did not arrive as JSON text');
  });

  it('leaves the trace context out when the row has none', () => {
    const body = encodeClaimedRow({ ...row, trace_context: null, data_json: '{}' });
    expect(decodeEnvelope(body)).toEqual({
      ...envelopeFromRow({ ...row, trace_context: null }),
      data: {},
    });
  });
});

describe(OutboxRelay.name, () => {
  const dataSource = {} as DataSource;
  const js = {} as JetStreamClient;

  it('refuses a batch size or a concurrency out of bounds', () => {
    expect(() => new OutboxRelay(dataSource, js, { batchSize: 0 })).toThrow(RangeError);
    expect(() => new OutboxRelay(dataSource, js, { batchSize: 1.5 })).toThrow(RangeError);
    expect(() => new OutboxRelay(dataSource, js, { concurrency: 33 })).toThrow(RangeError);
    expect(
      () => new OutboxRelay(dataSource, js, { batchSize: 10_000, concurrency: 32 }),
    ).not.toThrow();
  });
});
