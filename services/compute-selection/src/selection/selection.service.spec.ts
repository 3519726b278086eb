import { DomainError, seededRandom } from '@cinode/common';
import { PoolClass } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import {
  Demand as DemandMessage,
  SelectResponse,
  Weights as WeightsMessage,
  type Demand,
  type SelectRequest,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { LineTable, OfferIndex, randomLine, randomPool } from '@cinode/selection';
import type { ComputeSelectionConfig } from '../config';
import type { LineFollower } from '../lines/line-follower.service';
import type { IndexFollower } from '../offers/index-follower.service';
import { SelectAnswers, selectRequestKey } from './select-answers';
import { SelectionService } from './selection.service';

const DEMAND: Demand = {
  poolClass: PoolClass.POOL_CLASS_BARE_METAL,
  acceleratorModel: 'H800',
  acceleratorCount: 2,
  fp16Tflops: 0,
  fp32Tflops: 0,
  cpuCores: 8,
  memoryGib: 64,
  storageGib: 100,
  durationHours: 10,
  allowedRegions: [],
  userRegionCode: '310000',
  userSite: '',
  maxLatencyMs: 30,
  minBandwidthMbps: 100,
  maxPriceFenPerHour: 0,
  minSecurityLevel: 2,
  minRenewableRatio: 0,
  domesticOnly: false,
};

function setUp() {
  const random = seededRandom(42);
  const index = new OfferIndex();
  for (let i = 0; i < 2_000; i += 1) index.apply(randomPool(random, i));
  const table = new LineTable();
  for (let i = 0; i < 50; i += 1) table.apply(randomLine(random, i));
  const follower = { ready: true, index, lastSequence: 0 };
  const lines = { ready: true, table };
  const service = new SelectionService(
    follower as unknown as IndexFollower,
    lines as unknown as LineFollower,
    {
      LATENCY_SAME_REGION_MS: 2,
      LATENCY_SAME_PROVINCE_MS: 5,
      LATENCY_DEFAULT_MS: 35,
      LATENCY_PROVINCE_MATRIX: '{"31-11": 28}',
    } as ComputeSelectionConfig,
  );
  return { service, follower, lines, index, table };
}

const decode = (bytes: Buffer) => SelectResponse.decode(bytes);

describe(SelectionService.name, () => {
  it('answers Select encoded, as the search finds it', () => {
    const { service } = setUp();
    const request = { demand: DEMAND, weights: undefined, topK: 5 };
    const answer = decode(service.answer(request).bytes);
    const result = service.select(DEMAND, undefined, 5);
    expect(result.candidates.length).toBeGreaterThan(0);
    expect(answer.candidates.map((c) => [c.poolId, c.score, c.totalPriceFen])).toEqual(
      result.candidates.map((c) => [c.offer.poolId, c.score, c.priceFenPerHour * 10]),
    );
    expect(answer.matched).toBe(result.matched);
    expect(answer.considered).toBe(2_000);
  });

  it('answers a repeated request from the answer kept while nothing changed', () => {
    const { service } = setUp();
    const request = { demand: DEMAND, weights: undefined, topK: 5 };
    const first = service.answer(request);
    expect(service.answer({ demand: { ...DEMAND }, weights: undefined, topK: 5 })).toBe(first);
    expect(service.answer({ ...request, topK: 6 })).not.toBe(first);
  });

  it('searches again once a pool changes, and answers with the change', () => {
    const { service, index } = setUp();
    const request = { demand: DEMAND, weights: undefined, topK: 5 };
    const before = decode(service.answer(request).bytes);
    const best = before.candidates[0];
    const pool = [...index.all()].find((o) => o.poolId === best.poolId)!;
    // The best pool goes offline: the next answer must not offer it.
    index.apply({
      ...randomPool(seededRandom(1), 0),
      poolId: pool.poolId,
      version: pool.version + 1,
      state: 'offline',
    });
    const after = decode(service.answer(request).bytes);
    expect(after.candidates.map((c) => c.poolId)).not.toContain(best.poolId);
    expect(after.eliminations.find((e) => e.constraint === 'state')?.pools).toBe(
      (before.eliminations.find((e) => e.constraint === 'state')?.pools ?? 0) + 1,
    );
  });

  it('searches again once a line changes', () => {
    const { service, table } = setUp();
    const request = { demand: DEMAND, weights: undefined, topK: 5 };
    const first = service.answer(request);
    table.apply({ ...randomLine(seededRandom(7), 999), version: 1 });
    const second = service.answer(request);
    expect(second).not.toBe(first);
    expect(second.bytes.equals(first.bytes)).toBe(true);
  });

  it('refuses a bad request and keeps nothing for it', () => {
    const { service } = setUp();
    const bad = { demand: { ...DEMAND, durationHours: 0 }, weights: undefined, topK: 5 };
    expect(() => service.answer(bad)).toThrow(DomainError);
    expect(() => service.answer(bad)).toThrow(DomainError);
  });

  it('answers UNAVAILABLE until pools and lines are loaded, then searches', () => {
    const { service, lines } = setUp();
    lines.ready = false;
    const request = { demand: DEMAND, weights: undefined, topK: 5 };
    expect(() => service.answer(request)).toThrow(/still being built/);
    lines.ready = true;
    expect(decode(service.answer(request).bytes).candidates.length).toBeGreaterThan(0);
  });
});

describe(SelectAnswers.name, () => {
  const answer = { bytes: Buffer.from([1]) };

  it('drops every answer when the index or the lines change', () => {
    const answers = new SelectAnswers();
    expect(answers.get('k', 1, 1)).toBeUndefined();
    answers.set('k', answer);
    expect(answers.get('k', 1, 1)).toBe(answer);
    expect(answers.get('k', 2, 1)).toBeUndefined();
    answers.set('k', answer);
    expect(answers.get('k', 2, 2)).toBeUndefined();
    expect(answers.size).toBe(0);
  });

  it('keeps at most its maximum, dropping the oldest', () => {
    const answers = new SelectAnswers(2);
    answers.get('', 0, 0);
    answers.set('a', answer);
    answers.set('b', answer);
    answers.set('c', answer);
    expect(answers.size).toBe(2);
    expect(answers.get('a', 0, 0)).toBeUndefined();
    expect(answers.get('c', 0, 0)).toBe(answer);
  });
});

describe(selectRequestKey.name, () => {
  const weights = {
    price: 1,
    latency: 2,
    computeEfficiency: 3,
    carbonEfficiency: 4,
    security: 5,
  };
  const request: SelectRequest = { demand: DEMAND, weights, topK: 5 };
  const changed = (value: unknown): unknown =>
    typeof value === 'number'
      ? value + 1
      : typeof value === 'boolean'
        ? !value
        : Array.isArray(value)
          ? [...(value as string[]), '310000']
          : `${String(value)}x`;

  it('changes with every field of the demand, the weights and top_k', () => {
    const key = selectRequestKey(request);
    // Every field the generated messages have, so a field added to the proto cannot be missed.
    for (const field of Object.keys(DemandMessage.decode(new Uint8Array())) as Array<keyof Demand>)
      expect([
        field,
        selectRequestKey({ ...request, demand: { ...DEMAND, [field]: changed(DEMAND[field]) } }),
      ]).not.toEqual([field, key]);
    for (const field of Object.keys(WeightsMessage.decode(new Uint8Array())) as Array<
      keyof typeof weights
    >)
      expect([
        field,
        selectRequestKey({ ...request, weights: { ...weights, [field]: changed(weights[field]) } }),
      ]).not.toEqual([field, key]);
    expect(selectRequestKey({ ...request, topK: 6 })).not.toBe(key);
    expect(selectRequestKey({ ...request, weights: undefined })).not.toBe(key);
    expect(selectRequestKey({ ...request, demand: { ...DEMAND } })).toBe(key);
  });

  it('tells lists of regions apart however their codes are split', () => {
    const of = (allowedRegions: string[]) =>
      selectRequestKey({ ...request, demand: { ...DEMAND, allowedRegions } });
    expect(of(['310000', '110000'])).not.toBe(of(['310000']));
    expect(of([])).not.toBe(of(['']));
  });
});
