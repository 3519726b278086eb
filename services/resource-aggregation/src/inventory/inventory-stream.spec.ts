import { consecutiveGroups } from './inventory-stream';

/** A source the test feeds by hand, item by item, as a client stream delivers batches. */
function manualSource<T>() {
  const items: T[] = [];
  let waiting: (() => void) | undefined;
  let end: { error?: Error } | undefined;
  const pulls = { count: 0 };
  const source: AsyncIterable<T> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (items.length === 0 && !end) await new Promise<void>((r) => (waiting = r));
        if (items.length > 0) {
          pulls.count++;
          yield items.shift()!;
          continue;
        }
        if (end?.error) throw end.error;
        return;
      }
    },
  };
  const poke = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  return {
    source,
    pulls,
    push: (...more: T[]) => {
      items.push(...more);
      poke();
    },
    end: (error?: Error) => {
      end = { error };
      poke();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe(consecutiveGroups.name, () => {
  it('hands over each item at once while the consumer keeps up, and what queued meanwhile together', async () => {
    const feed = manualSource<number>();
    const groups = consecutiveGroups(feed.source, (n) => n, 10);
    feed.push(1);
    expect((await groups.next()).value).toEqual([1]);
    // While the consumer works on [1], three more arrive: they come as one group, in order.
    feed.push(2, 3, 4);
    await tick();
    expect((await groups.next()).value).toEqual([2, 3, 4]);
    feed.end();
    expect((await groups.next()).done).toBe(true);
  });

  it('keeps a group within the weight limit, a heavier item alone, and reads no further ahead', async () => {
    const feed = manualSource<number>();
    const groups = consecutiveGroups(feed.source, (n) => n, 10);
    feed.push(1);
    expect((await groups.next()).value).toEqual([1]);
    feed.push(4, 5, 3, 12, 1, 1, 1, 1);
    await tick();
    // Read ahead while the consumer works: items until their weight reaches the limit, no more.
    expect(feed.pulls.count).toBe(1 + 3);
    expect((await groups.next()).value).toEqual([4, 5]);
    expect((await groups.next()).value).toEqual([3]);
    expect((await groups.next()).value).toEqual([12]);
    await tick();
    expect((await groups.next()).value).toEqual([1, 1, 1, 1]);
    feed.end();
    expect((await groups.next()).done).toBe(true);
  });

  it('bounds the read-ahead of weightless (empty) batches when each weighs one more', async () => {
    const feed = manualSource<number>();
    const groups = consecutiveGroups(feed.source, (n) => 1 + n, 10);
    feed.push(0);
    expect((await groups.next()).value).toEqual([0]);
    feed.push(...Array.from({ length: 1_000 }, () => 0));
    await tick();
    // A flood of empty batches is read only up to the weight limit while the consumer works.
    expect(feed.pulls.count).toBe(1 + 10);
  });

  it('yields what was read before the stream failed, then throws its error', async () => {
    const feed = manualSource<number>();
    const groups = consecutiveGroups(feed.source, (n) => n, 10);
    feed.push(1);
    expect((await groups.next()).value).toEqual([1]);
    feed.push(2, 3);
    feed.end(new Error('stream reset'));
    await tick();
    expect((await groups.next()).value).toEqual([2, 3]);
    await expect(groups.next()).rejects.toThrow('stream reset');
  });

  it('stops reading when the consumer stops', async () => {
    const feed = manualSource<number>();
    const groups = consecutiveGroups(feed.source, (n) => n, 2);
    feed.push(1);
    expect((await groups.next()).value).toEqual([1]);
    feed.push(1, 1, 1, 1, 1, 1, 1, 1);
    await tick();
    expect((await groups.next()).value).toEqual([1, 1]);
    await groups.return(undefined);
    const read = feed.pulls.count;
    await tick();
    await tick();
    expect(feed.pulls.count).toBe(read);
    expect(read).toBeLessThan(1 + 8);
  });
});
