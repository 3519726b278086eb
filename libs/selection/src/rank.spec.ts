import { seededRandom } from '@cinode/common';
import { randomPool } from './fixtures';
import { rank, type Match, type Scored } from './matcher';
import { offerOf } from './offer';

/** Matches with few distinct figures, so many share a score and the pool id decides. */
function matches(random: () => number, count: number): Match[] {
  return Array.from({ length: count }, (_, i) => {
    const offer = offerOf(randomPool(random, i));
    offer.gflopsPerWatt = 10 * (1 + Math.floor(random() * 3));
    offer.renewableRatio = 0.5;
    offer.pue = 1.25;
    offer.securityLevel = 1 + Math.floor(random() * 4);
    return {
      offer,
      path: 'default' as const,
      line: undefined,
      latencyMs: 5 * (1 + Math.floor(random() * 3)),
      bandwidthMbps: 1_000,
      priceFenPerHour: 100 * (1 + Math.floor(random() * 4)),
    };
  });
}

/** The order ranking promises: higher score first, then the lower pool id. */
function byRank(a: Scored, b: Scored): number {
  return b.score - a.score || (a.offer.poolId < b.offer.poolId ? -1 : 1);
}

describe('rank', () => {
  const weights = { price: 3, latency: 2, computeEfficiency: 1, carbonEfficiency: 1, security: 1 };

  it('keeps exactly the best topK of a full sort, ties to the lower pool id', () => {
    const random = seededRandom(2026_12_02);
    for (const count of [1, 7, 50, 400]) {
      const all = matches(random, count);
      // Shuffled, so the order of arrival is no help.
      const shuffled = [...all].sort(() => random() - 0.5);
      const everything = rank(shuffled, weights, count).sort(byRank);
      for (const topK of [1, 3, 10, 100, 150]) {
        const kept = rank(shuffled, weights, topK);
        expect(kept.map((c) => [c.offer.poolId, c.score])).toEqual(
          everything.slice(0, topK).map((c) => [c.offer.poolId, c.score]),
        );
      }
    }
  });

  it('gives a breakdown that adds up to the score', () => {
    const random = seededRandom(7);
    const total = 3 + 2 + 1 + 1 + 1;
    for (const c of rank(matches(random, 200), weights, 20)) {
      const b = c.breakdown;
      const sum =
        (3 * b.price + 2 * b.latency + b.computeEfficiency + b.carbonEfficiency + b.security) /
        total;
      expect(c.score).toBeCloseTo(sum, 12);
    }
  });

  it('keeps nothing when asked for nothing', () => {
    expect(rank(matches(seededRandom(1), 5), weights, 0)).toEqual([]);
    expect(rank([], weights, 10)).toEqual([]);
    // An in-process caller's fraction counts whole candidates only.
    expect(rank(matches(seededRandom(1), 5), weights, 2.5)).toHaveLength(2);
  });
});
