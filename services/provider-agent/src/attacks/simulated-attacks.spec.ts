import { isIP } from 'node:net';
import { SimulatedAttacks } from './simulated-attacks';

const POOLS = ['pool-a', 'pool-b', 'pool-c'];

describe(SimulatedAttacks.name, () => {
  it('makes about the rate asked for, on the pools given, the same for the same seed', () => {
    const one = new SimulatedAttacks(3_600, 7);
    const two = new SimulatedAttacks(3_600, 7);
    const now = new Date('2026-03-01T00:00:00Z');
    const events = Array.from({ length: 60 }, () => one.next(now, 1_000, POOLS)).flat();
    const again = Array.from({ length: 60 }, () => two.next(now, 1_000, POOLS)).flat();
    expect(events).toEqual(again);
    const fresh = new Set(events.map((e) => e.eventId));
    expect(fresh.size).toBe(60);
    for (const event of events) {
      expect(POOLS).toContain(event.poolId);
      expect([isIP(event.attackerIp), isIP(event.targetIp)]).toEqual([4, 4]);
      expect(event.severity).toBeGreaterThan(0);
      expect(event.handlingStatus).toBeGreaterThan(0);
    }
  });

  it('makes none at rate 0 or without pools', () => {
    expect(new SimulatedAttacks(0, 1).next(new Date(), 3_600_000, POOLS)).toEqual([]);
    expect(new SimulatedAttacks(100, 1).next(new Date(), 3_600_000, [])).toEqual([]);
  });
});
