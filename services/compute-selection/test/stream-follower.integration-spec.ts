import { randomUUID } from 'node:crypto';
import {
  defineEvent,
  defineEventSource,
  defineStream,
  eventOf,
  type ReceivedEvent,
} from '@cinode/contracts';
import { createEnvelope, encodeEnvelope } from '@cinode/events';
import { eventually, testNatsUrl } from '@cinode/testing';
import { connect, type NatsConnection } from 'nats';
import { z } from 'zod';
import { StreamFollower } from '../src/followers/stream-follower';

const suffix = randomUUID().replace(/-/g, '').slice(0, 8);
const STREAM = defineStream({
  name: `FOLLOW${suffix}`,
  subjects: [`cinode.ft${suffix}.>`],
  owner: 'test',
  description: 'StreamFollower test stream',
});
const ItemChanged = defineEvent({
  type: `cinode.ft${suffix}.item.changed`,
  stream: STREAM,
  schemaVersion: 1,
  schema: z.object({ n: z.number() }),
  description: 'followed',
});
const OtherChanged = defineEvent({
  type: `cinode.ft${suffix}.other.changed`,
  stream: STREAM,
  schemaVersion: 1,
  schema: z.object({ n: z.number() }),
  description: 'not followed',
});
const Items = defineEventSource({
  stream: STREAM,
  filterSubject: `cinode.ft${suffix}.item.>`,
  events: [ItemChanged],
});

describe(StreamFollower.name, () => {
  let nc: NatsConnection;
  let follower: StreamFollower<typeof ItemChanged> | undefined;
  const applied: number[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: testNatsUrl() });
  });

  afterAll(async () => {
    await follower?.stop();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(STREAM.name).catch(() => undefined);
    await nc.close();
  });

  const publish = async (contract: typeof ItemChanged | typeof OtherChanged, n: number) => {
    const body = encodeEnvelope(createEnvelope('test', eventOf(contract, { n })));
    await nc.jetstream().publish(contract.type, body);
  };

  it('does not rebuild when only other subjects age out, and does when the stream is recreated', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: STREAM.name, subjects: [...STREAM.subjects] });
    follower = new StreamFollower(
      nc,
      {
        name: 'items',
        source: Items,
        load: () => Promise.resolve(0),
        apply: (event: ReceivedEvent<typeof ItemChanged>) => applied.push(event.data.n),
      },
      100,
    );
    follower.start();
    await eventually('the follower built', () => Promise.resolve(follower!.ready || undefined));

    await publish(ItemChanged, 1);
    for (let i = 0; i < 5; i += 1) await publish(OtherChanged, i);
    await eventually('the item applied', () => Promise.resolve(applied.length === 1 || undefined));
    // A check after them vouches for every message so far (later checks judge a purge by it).
    const seen = follower.checks;
    await eventually('a continuity check after them', () =>
      Promise.resolve(follower!.checks >= seen + 2 || undefined),
    );
    // Every message so far goes: the followed item was applied, the rest was never followed.
    const { state } = await jsm.streams.info(STREAM.name);
    await jsm.streams.purge(STREAM.name, { seq: state.last_seq + 1 });
    expect((await jsm.streams.info(STREAM.name)).state.first_seq).toBe(state.last_seq + 1);
    const checks = follower.checks;
    await eventually('two continuity checks after the purge', () =>
      Promise.resolve(follower!.checks >= checks + 2 || undefined),
    );
    expect(follower.builds).toBe(1);
    await publish(ItemChanged, 2);
    await eventually('the next item applied', () =>
      Promise.resolve(applied.length === 2 || undefined),
    );
    expect(follower.builds).toBe(1);

    // A stream deleted and created again is another stream: the state is loaded again.
    await jsm.streams.delete(STREAM.name);
    await jsm.streams.add({ name: STREAM.name, subjects: [...STREAM.subjects] });
    await eventually('the state loaded again', () =>
      Promise.resolve(follower!.builds === 2 || undefined),
    );
    expect(applied).toEqual([1, 2]);
  });

  it('rebuilds when events it follows were purged before they reached it', async () => {
    await follower?.stop();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(STREAM.name).catch(() => undefined);
    await jsm.streams.add({ name: STREAM.name, subjects: [...STREAM.subjects] });
    let loads = 0;
    let gone!: () => void;
    const purged = new Promise<void>((resolve) => (gone = resolve));
    const late: number[] = [];
    follower = new StreamFollower(
      nc,
      {
        name: 'items',
        source: Items,
        // The first build reads its state while two events of its own come and are purged: its
        // consumer then starts past them, with nothing pending.
        load: async () => {
          loads += 1;
          if (loads === 1) await purged;
          return 0;
        },
        apply: (event: ReceivedEvent<typeof ItemChanged>) => late.push(event.data.n),
      },
      100,
    );
    follower.start();
    await eventually('the first load', () => Promise.resolve(loads === 1 || undefined));
    await publish(ItemChanged, 10);
    await publish(ItemChanged, 11);
    const { state } = await jsm.streams.info(STREAM.name);
    await jsm.streams.purge(STREAM.name, { seq: state.last_seq + 1 });
    gone();
    await eventually('the state loaded again', () =>
      Promise.resolve(follower!.builds === 2 || undefined),
    );
    expect(late).toEqual([]);
  });
});
