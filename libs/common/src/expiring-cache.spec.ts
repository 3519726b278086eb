import { ExpiringCache } from './expiring-cache';

describe(ExpiringCache.name, () => {
  it('answers an entry until its own time, then forgets it', () => {
    const cache = new ExpiringCache<string, number>(10);
    cache.set('a', 1, 1_000);
    expect(cache.get('a', 999)).toBe(1);
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the entry stored longest ago when full, never more than its capacity', () => {
    const cache = new ExpiringCache<string, number>(2);
    cache.set('a', 1, 10);
    cache.set('b', 2, 10);
    cache.set('b', 3, 10);
    expect(cache.size).toBe(2);
    cache.set('c', 4, 10);
    expect(cache.size).toBe(2);
    expect([cache.get('a', 0), cache.get('b', 0), cache.get('c', 0)]).toEqual([undefined, 3, 4]);
    cache.delete('b');
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
