import { seededRandom } from '@cinode/common';
import { SelectResponse } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { checkSelectRequest } from './demand';
import { randomLine, randomPool } from './fixtures';
import { LatencyModel } from './latency';
import { LineTable } from './line-table';
import type { SelectionResult } from './matcher';
import { OfferIndex } from './offer-index';
import { randomDemand } from './random-demands';
import { selectResponseOf } from './select-response';
import { encodeSelectResponse } from './select-response.encoder';

const generated = (result: SelectionResult, hours: number) =>
  Buffer.from(SelectResponse.encode(selectResponseOf(result, hours)).finish());

describe(encodeSelectResponse.name, () => {
  const random = seededRandom(7);
  const index = new OfferIndex();
  for (let i = 0; i < 3_000; i += 1) index.apply(randomPool(random, i));
  const lines = new LineTable();
  for (let i = 0; i < 200; i += 1) lines.apply(randomLine(random, i));
  const latency = new LatencyModel({
    sameRegionMs: 2,
    sameProvinceMs: 5,
    defaultMs: 35,
    provincePairs: new Map(),
  });

  it('writes the bytes the generated encoder writes, on many demands', () => {
    let candidates = 0;
    let withLines = 0;
    for (let i = 0; i < 1_000; i += 1) {
      const demand = randomDemand(random);
      if (i % 2 === 0 && demand.userRegionCode) demand.maxLatencyMs = 1 + Math.floor(random() * 60);
      const checked = checkSelectRequest(demand, undefined, 1 + (i % 20));
      const result = index.select(checked.demand, checked.weights, checked.topK, latency, lines);
      candidates += result.candidates.length;
      withLines += result.candidates.filter((c) => c.line).length;
      expect(encodeSelectResponse(result, demand.durationHours)).toEqual(
        generated(result, demand.durationHours),
      );
    }
    expect(candidates).toBeGreaterThan(1_000);
    expect(withLines).toBeGreaterThan(0);
  });

  it('writes what the generated encoder writes for text past ASCII, zeros and large numbers', () => {
    const demand = checkSelectRequest(randomDemand(seededRandom(3)), undefined, 5);
    const result = index.select(demand.demand, demand.weights, 50, latency, lines);
    expect(result.candidates.length).toBeGreaterThan(2);
    const [a, b, c] = result.candidates;
    a.offer = { ...a.offer, poolId: '池-甲-😀'.repeat(20), site: '', version: 2 ** 40 };
    a.score = 0;
    a.breakdown = { ...a.breakdown, price: 0, security: -0.5 };
    b.priceFenPerHour = 0;
    b.latencyMs = 0;
    c.bandwidthMbps = Number.MAX_SAFE_INTEGER;
    expect(encodeSelectResponse(result, 1_000)).toEqual(generated(result, 1_000));
  });

  it('hands numbers it does not write to the generated encoder', () => {
    const demand = checkSelectRequest(randomDemand(seededRandom(4)), undefined, 5);
    const result = index.select(demand.demand, demand.weights, 50, latency, lines);
    expect(result.candidates.length).toBeGreaterThan(1);
    result.candidates[0].priceFenPerHour = -3;
    result.candidates[1].latencyMs = -1;
    expect(encodeSelectResponse(result, 2)).toEqual(generated(result, 2));
  });
});
