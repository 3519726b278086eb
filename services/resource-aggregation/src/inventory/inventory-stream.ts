/**
 * The batches of a client stream in groups: each group is every batch that arrived while the
 * previous group was being applied, in arrival order, up to `maxWeight` (snapshots) per group,
 * a single heavier batch on its own. So a provider pushing slower than batches commit gets each
 * batch applied on its own as soon as it arrives, and one pushing faster gets several applied
 * per transaction instead of queueing behind one transaction each. At most about `maxWeight` is
 * read ahead of the group being applied; beyond that the stream is not read and HTTP/2 flow
 * control holds the client back, as before. A failed stream yields what was read before the
 * failure, then throws.
 */
export async function* consecutiveGroups<T>(
  source: AsyncIterable<T>,
  weightOf: (item: T) => number,
  maxWeight: number,
): AsyncGenerator<T[], void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const queue: T[] = [];
  let queued = 0;
  let ended = false;
  let stopped = false;
  let failure: Error | undefined;
  let itemArrived: (() => void) | undefined;
  let roomFreed: (() => void) | undefined;
  const pump = async (): Promise<void> => {
    try {
      while (!stopped) {
        if (queued >= maxWeight) {
          await new Promise<void>((resolve) => (roomFreed = resolve));
          continue;
        }
        const next = await iterator.next();
        if (next.done) break;
        queue.push(next.value);
        queued += weightOf(next.value);
        itemArrived?.();
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      ended = true;
      itemArrived?.();
    }
  };
  const pumping = pump();
  try {
    for (;;) {
      while (queue.length === 0 && !ended)
        await new Promise<void>((resolve) => (itemArrived = resolve));
      itemArrived = undefined;
      if (queue.length === 0) {
        if (failure) throw failure;
        return;
      }
      const group = [queue.shift()!];
      let weight = weightOf(group[0]);
      while (queue.length > 0 && weight + weightOf(queue[0]) <= maxWeight) {
        weight += weightOf(queue[0]);
        group.push(queue.shift()!);
      }
      queued -= weight;
      roomFreed?.();
      roomFreed = undefined;
      yield group;
    }
  } finally {
    // The consumer stopped (it failed, or it returned): read no further.
    stopped = true;
    roomFreed?.();
    if (ended) await pumping;
  }
}
