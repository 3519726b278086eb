import { DomainError } from '@cinode/common';
import { LoadShedder } from './load-shedder';

/** Keeps the event loop busy for `ms`: what a flood of calls does to a service. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

/** Resolves after the timers due now have run (the shedder's sample among them). */
const nextTimers = () => new Promise((resolve) => setTimeout(resolve, 0));

describe(LoadShedder.name, () => {
  let shedder: LoadShedder;

  afterEach(() => shedder?.onApplicationShutdown());

  it('refuses a call whose deadline passed before it started, and lets a live one run', () => {
    shedder = new LoadShedder({ lagThresholdMs: 0 });
    const now = Date.now();
    const late = shedder.refusal({ getDeadline: () => new Date(now - 1) }, now);
    expect(late).toBeInstanceOf(DomainError);
    expect(late).toMatchObject({
      kind: 'DEADLINE_EXCEEDED',
      reason: 'DEADLINE_PASSED_BEFORE_START',
    });
    expect(shedder.refusal({ getDeadline: () => now + 1_000 }, now)).toBeUndefined();
    expect(shedder.refusal({ getDeadline: () => Number.POSITIVE_INFINITY }, now)).toBeUndefined();
    expect(shedder.refusal({}, now)).toBeUndefined();
  });

  it('sheds every new call while the event loop stays twice the threshold behind, none once it caught up', async () => {
    shedder = new LoadShedder({ lagThresholdMs: 100, sampleIntervalMs: 5 });
    shedder.onModuleInit();
    await nextTimers();
    // One pause is not overload: it weighs half, below the threshold.
    block(120);
    await nextTimers();
    expect(shedder.lag).toBeLessThan(100);
    expect(shedder.sheddingShare).toBe(0);
    // Falling behind sample after sample is.
    for (let i = 0; i < 3; i += 1) {
      block(400);
      await nextTimers();
    }
    expect(shedder.lag).toBeGreaterThanOrEqual(200);
    expect(shedder.sheddingShare).toBe(1);
    const refusal = shedder.refusal({});
    expect(refusal).toMatchObject({
      kind: 'RESOURCE_EXHAUSTED',
      reason: 'OVERLOADED',
      retryAfterSeconds: 1,
    });
    // A few quiet samples later the loop is on time again: nothing is shed.
    for (let i = 0; i < 50 && shedder.sheddingShare > 0; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(shedder.sheddingShare).toBe(0);
    expect(shedder.refusal({})).toBeUndefined();
  });

  it('never sheds for lag with a threshold of 0', async () => {
    shedder = new LoadShedder({ lagThresholdMs: 0, sampleIntervalMs: 5 });
    shedder.onModuleInit();
    block(100);
    await nextTimers();
    expect(shedder.sheddingShare).toBe(0);
    expect(shedder.refusal({})).toBeUndefined();
  });

  it('leaves the overload refusal to the wire once attached there, and still refuses calls past their deadline', async () => {
    shedder = new LoadShedder({ lagThresholdMs: 50, sampleIntervalMs: 5 });
    shedder.onModuleInit();
    for (let i = 0; i < 3; i += 1) {
      block(300);
      await nextTimers();
    }
    expect(shedder.sheddingShare).toBe(1);
    shedder.attachToWire();
    const first = shedder.wireRefusal('/cinode.testing.v1.ProbeService/Probe');
    expect(first).toMatchObject({ kind: 'RESOURCE_EXHAUSTED', reason: 'OVERLOADED' });
    // One error object, so the server encodes its status once.
    expect(shedder.wireRefusal('/cinode.testing.v1.ProbeService/Probe')).toBe(first);
    // Shed at the wire already: a call that got past it is not shed a second time.
    expect(shedder.refusal({})).toBeUndefined();
    const now = Date.now();
    expect(shedder.refusal({ getDeadline: () => now - 1 }, now)).toMatchObject({
      kind: 'DEADLINE_EXCEEDED',
    });
  });
});
