import { WakeableDelay } from './wakeable-delay';

describe(WakeableDelay.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends a wait after its time, or at once when woken, leaving no timer', async () => {
    const delay = new WakeableDelay();
    let ended = false;
    const waiting = delay.wait(1_000).then(() => (ended = true));
    jest.advanceTimersByTime(999);
    await Promise.resolve();
    expect(ended).toBe(false);
    jest.advanceTimersByTime(1);
    await waiting;

    ended = false;
    const woken = delay.wait(60_000).then(() => (ended = true));
    delay.wake();
    await woken;
    expect(ended).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
    // Nothing in progress: a wake changes nothing.
    delay.wake();
  });
});
