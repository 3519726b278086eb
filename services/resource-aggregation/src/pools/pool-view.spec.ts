import { seededRandom } from '@cinode/common';
import {
  MAX_POOLS_PER_REPORT_EVENT,
  MAX_REPORT_EVENT_BYTES,
  type PoolData,
} from '@cinode/contracts';
import { randomPool } from '@cinode/selection';
import { poolsReportedEvents } from './pool-view';

function pools(count: number, large = false): PoolData[] {
  const random = seededRandom(42);
  return Array.from({ length: count }, (_, i) => {
    const pool = randomPool(random, i);
    if (!large) return pool;
    return {
      ...pool,
      name: '算'.repeat(200),
      site: '站'.repeat(64),
      accelerators: Array.from({ length: 16 }, (_a, k) => ({
        kind: 'NPU' as const,
        model: `${'昇'.repeat(62)}${String(k).padStart(2, '0')}`,
        domestic: true,
      })),
    };
  });
}

describe(poolsReportedEvents.name, () => {
  it('puts up to 200 pools in an event, in pool id order, every pool once', () => {
    const events = poolsReportedEvents(pools(450).reverse());
    expect(events.map((e) => e.data.pools.length)).toEqual([200, 200, 50]);
    const ids = events.flatMap((e) => e.data.pools.map((p) => (p as PoolData).poolId));
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(450);
  });

  it('keeps each event under MAX_REPORT_EVENT_BYTES however long the pools text is', () => {
    const events = poolsReportedEvents(pools(450, true));
    expect(events.length).toBeGreaterThan(450 / MAX_POOLS_PER_REPORT_EVENT + 1);
    for (const event of events)
      expect(Buffer.byteLength(JSON.stringify(event.data))).toBeLessThanOrEqual(
        MAX_REPORT_EVENT_BYTES,
      );
    expect(events.reduce((sum, e) => sum + e.data.pools.length, 0)).toBe(450);
  });

  it('refuses a pool that breaks its contract, naming it', () => {
    const bad = pools(3);
    bad[1] = { ...bad[1], securityLevel: 9 };
    expect(() => poolsReportedEvents(bad)).toThrow(/pools\.\d: securityLevel/);
  });

  it('has nothing to say about no pools', () => {
    expect(poolsReportedEvents([])).toEqual([]);
  });
});
