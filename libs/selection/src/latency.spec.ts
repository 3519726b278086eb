import { LatencyModel, parseProvinceMatrix } from './latency';

const model = () =>
  new LatencyModel({
    sameRegionMs: 2,
    sameProvinceMs: 5,
    defaultMs: 35,
    provincePairs: parseProvinceMatrix('{"31-11": 28}'),
  });

describe('LatencyModel', () => {
  it('estimates within a region, a province, a listed pair of provinces and by default', () => {
    const latency = model();
    expect(latency.between('310000', '310000')).toEqual({ kind: 'local', latencyMs: 2 });
    expect(latency.between('310000', '310100')).toEqual({ kind: 'default', latencyMs: 5 });
    expect(latency.between('310000', '110000')).toEqual({ kind: 'default', latencyMs: 28 });
    expect(latency.between('110000', '310000')).toEqual({ kind: 'default', latencyMs: 28 });
    expect(latency.between('440000', '310000')).toEqual({ kind: 'default', latencyMs: 35 });
  });

  it('gives one frozen answer per estimate, so callers can key on it', () => {
    const latency = model();
    const first = latency.between('310000', '110000');
    expect(latency.between('310000', '110000')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // The same estimate for another pair is the same object; another estimate is not.
    expect(latency.between('110000', '310000')).toBe(first);
    expect(latency.between('440000', '310000')).not.toBe(first);
    expect(latency.between('440000', '310000')).toBe(latency.between('500000', '310000'));
  });

  it('stays right for callers cycling through more user regions than it keeps', () => {
    const latency = model();
    for (let i = 0; i < 100_000; i += 1) {
      const user = `${String(10 + (i % 80)).padStart(2, '0')}${String(i).padStart(4, '0')}`;
      const expected = user.startsWith('31') ? 5 : user.startsWith('11') ? 28 : 35;
      expect(latency.between(user, '310100').latencyMs).toBe(expected);
    }
    expect(latency.between('310000', '310000')).toEqual({ kind: 'local', latencyMs: 2 });
  });
});
