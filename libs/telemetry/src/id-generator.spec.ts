import { PooledIdGenerator } from './id-generator';

describe(PooledIdGenerator.name, () => {
  it('mints lowercase hex ids of W3C length, distinct across many pool refills', () => {
    const ids = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 5_000; i += 1) {
      traces.add(ids.generateTraceId());
      spans.add(ids.generateSpanId());
    }
    expect(traces.size).toBe(5_000);
    expect(spans.size).toBe(5_000);
    for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('never mints the all-zero id', () => {
    const ids = new PooledIdGenerator();
    // Force a pool of zero bytes: the generator must skip past them to a refill.
    Object.assign(ids, { hex: '0'.repeat(64), offset: 0 });
    expect(ids.generateSpanId()).not.toMatch(/^0+$/);
    Object.assign(ids, { hex: '0'.repeat(64), offset: 0 });
    expect(ids.generateTraceId()).not.toMatch(/^0+$/);
  });
});
