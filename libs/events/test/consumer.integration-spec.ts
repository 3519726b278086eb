import { eventually } from '@cinode/testing';
import { consumerRestarts } from '@cinode/telemetry';
import { randomUUID } from 'node:crypto';
import { eventOf } from '@cinode/contracts';
import type { Tx } from '@cinode/database';
import { JetStreamManager, NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import {
  ConsumerDefinition,
  EventConsumer,
  OutboxPublisher,
  PermanentEventError,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  ensureOwnedStreams,
  publishDeadLetter,
  publishEnvelope,
  replayDeadLetter,
  type EventEnvelope,
} from '@cinode/events';
import {
  TestStreams,
  connectNats,
  deleteStreams,
  migratedDataSource,
  parkedFor,
  testStreams,
  unitOfWork,
  type ThingContract,
} from './support';

describe(EventConsumer.name, () => {
  let dataSource: DataSource;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let streams: TestStreams;
  const consumers: EventConsumer<ThingContract>[] = [];

  beforeEach(async () => {
    streams = testStreams();
    dataSource = await migratedDataSource('events_consumer');
    ({ nc, jsm } = await connectNats(streams));
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    await deleteStreams(jsm, streams);
    await nc.drain();
    await dataSource.destroy();
  });

  async function startConsumer(
    definition: Omit<ConsumerDefinition<ThingContract>, 'name' | 'source'>,
    verbs: string[] = ['created', 'poisoned'],
  ): Promise<EventConsumer<ThingContract>> {
    const consumer = new EventConsumer<ThingContract>(unitOfWork(dataSource), nc, {
      name: streams.consumerName,
      source: streams.things(...verbs),
      ...definition,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  }

  function event(id: string, verb = 'created'): EventEnvelope<{ id: string }> {
    const message = eventOf(streams.thing(verb), { id });
    return createEnvelope('consumer-test', message);
  }

  async function handledCount(id: string): Promise<number | undefined> {
    const rows = await dataSource.query<{ handled_count: number }[]>(
      `SELECT handled_count FROM thing WHERE id = $1`,
      [id],
    );
    return rows[0]?.handled_count;
  }

  /** The handler's state change: counts how often it committed for this thing. */
  async function recordHandled(id: string, tx: Tx): Promise<void> {
    await tx.manager.query(
      `INSERT INTO thing (id, handled_count) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET handled_count = thing.handled_count + 1`,
      [id],
    );
  }

  async function parked(count: number) {
    return eventually(`${count} dead-lettered message(s)`, async () => {
      const messages = await parkedFor(jsm, streams);
      return messages.length >= count ? messages : undefined;
    });
  }

  it('processes a redelivered event once', async () => {
    const seen: number[] = [];
    await startConsumer({
      handle: async (e, { tx, deliveryCount }) => {
        seen.push(deliveryCount);
        await recordHandled(e.data.id, tx);
      },
    });
    const first = event('dup');
    // The same event arriving twice with different message ids, as after a publisher retry outside the
    // duplicate window: JetStream stores both, so only processed_event can stop the second.
    const js = nc.jetstream();
    await js.publish(first.type, encodeEnvelope(first), { msgID: `${first.id}-a` });
    await js.publish(first.type, encodeEnvelope(first), { msgID: `${first.id}-b` });
    await publishEnvelope(js, event('marker'));

    await eventually('the marker after both copies', () => handledCount('marker'));
    expect(await handledCount('dup')).toBe(1);
    expect(seen).toHaveLength(2);
    const processed = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM processed_event WHERE consumer = $1 AND event_id = $2`,
      [streams.consumerName, first.id],
    );
    expect(processed[0].n).toBe(1);
  });

  it('declares its consumer, and then its stream, again when they are deleted under it, and goes on', async () => {
    await startConsumer({ handle: (e, { tx }) => recordHandled(e.data.id, tx) });
    const js = nc.jetstream();
    const streamName = streams.stream.name;
    await publishEnvelope(js, event('before'));
    await eventually('the first event', () => handledCount('before'));

    await jsm.consumers.delete(streamName, streams.consumerName);
    await publishEnvelope(js, event('after-consumer-deleted'));
    await eventually(
      'the event published after its consumer was deleted',
      () => handledCount('after-consumer-deleted'),
      20_000,
    );

    // Its stream gone too (JetStream's state lost, say): the consumer declares both again.
    await jsm.streams.delete(streamName);
    await eventually(
      'the stream declared again',
      () =>
        jsm.streams.info(streamName).then(
          () => true,
          () => undefined,
        ),
      20_000,
    );
    await publishEnvelope(js, event('after-stream-deleted'));
    await eventually(
      'the event published after its stream was deleted',
      () => handledCount('after-stream-deleted'),
      20_000,
    );
  }, 60_000);

  it('parks a message of a recreated stream, though the first one there had the same sequence', async () => {
    await startConsumer({
      handle: async (e) => {
        throw new PermanentEventError(`no thing ${e.data.id}`);
      },
    });
    const js = nc.jetstream();
    const first = event('first-poison', 'poisoned');
    await publishEnvelope(js, first);
    const [letter] = await parked(1);
    expect(letter.originSequence).toBe(1);

    // JetStream's state lost, say: the stream numbers from 1 again, within the dead-letter
    // stream's duplicate window.
    await jsm.streams.delete(streams.stream.name);
    await eventually(
      'the stream declared again',
      () =>
        jsm.streams.info(streams.stream.name).then(
          () => true,
          () => undefined,
        ),
      20_000,
    );
    const second = event('second-poison', 'poisoned');
    await publishEnvelope(js, second);
    const letters = await parked(2);
    expect(letters.map((l) => [l.originSequence, l.eventId])).toEqual([
      [1, first.id],
      [1, second.id],
    ]);
  }, 60_000);

  it('parks a retried copy of one message once, and says the retry was a repeat', async () => {
    // Its consumer declares the dead-letter stream.
    await startConsumer({ handle: async () => undefined });
    const origin = {
      consumer: streams.consumerName,
      stream: streams.stream.name,
      subject: streams.subject('thing', 'created'),
      streamSequence: 7,
      deliveries: 3,
      data: encodeEnvelope(event('parked-twice')),
    };
    const js = nc.jetstream();
    expect(await publishDeadLetter(js, origin, 'the database refused it')).toEqual({
      duplicate: false,
    });
    // The ack of the first was lost: the consumer parks it again.
    expect(await publishDeadLetter(js, origin, 'the database refused it')).toEqual({
      duplicate: true,
    });
    expect(await parkedFor(jsm, streams)).toHaveLength(1);
  });

  it('stops while it waits to declare its consumer again (a hang fails on the test timeout)', async () => {
    const consumer = await startConsumer({ handle: (e, { tx }) => recordHandled(e.data.id, tx) });
    await jsm.consumers.delete(streams.stream.name, streams.consumerName);
    const restarts = async () =>
      (await consumerRestarts.get()).values.find((v) => v.labels.consumer === streams.consumerName)
        ?.value ?? 0;
    await eventually('the pull to end', async () => ((await restarts()) >= 1 ? true : undefined));
    await consumer.stop();
    expect(await restarts()).toBeGreaterThanOrEqual(1);
  }, 15_000);

  it('retries an outage with growing, capped delays and no delivery limit', async () => {
    const attempts: number[] = [];
    await startConsumer({
      backoff: { initialMs: 100, maxMs: 300, multiplier: 2, jitter: 0 },
      handle: async (e, { tx, deliveryCount }) => {
        await recordHandled(e.data.id, tx);
        if (e.data.id !== 'flaky') return;
        attempts.push(Date.now());
        // More failures than any former delivery limit; each attempt's write is rolled back.
        if (deliveryCount <= 6) throw new Error('Connection terminated unexpectedly');
      },
    });
    const js = nc.jetstream();
    await publishEnvelope(js, event('flaky'));
    await publishEnvelope(js, event('behind-flaky'));

    // The message behind the failing one is not held up by its retries.
    await eventually('the later event', () => handledCount('behind-flaky'), 5_000);
    await eventually('the seventh delivery to succeed', () => handledCount('flaky'), 15_000);
    expect(await handledCount('flaky')).toBe(1);
    const delays = attempts.slice(1).map((t, i) => t - attempts[i]);
    expect(delays[0]).toBeGreaterThanOrEqual(90);
    expect(delays[1]).toBeGreaterThanOrEqual(190);
    // Capped at 300 ms: later retries do not keep doubling.
    expect(Math.max(...delays)).toBeLessThan(2_000);
    expect(await parkedFor(jsm, streams)).toHaveLength(0);
  });

  it('dead-letters a failure nothing explains after its bounded retries', async () => {
    const attempts: number[] = [];
    await startConsumer({
      backoff: { initialMs: 20, maxMs: 50, multiplier: 2, jitter: 0 },
      maxUnexplainedDeliveries: 4,
      handle: async (e, { deliveryCount }) => {
        attempts.push(deliveryCount);
        if (e.data.id === 'buggy') throw new TypeError('a bug in the handler');
      },
    });
    const buggy = event('buggy');
    await publishEnvelope(nc.jetstream(), buggy);
    const [letter] = await parked(1);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(letter).toMatchObject({ eventId: buggy.id, deliveries: 4, kind: 'failure' });
    expect(letter.error).toBe(
      'TypeError: a bug in the handler (failed 4 times for no reason an outage explains)',
    );
  });

  it('parks even an outage before the stream would drop the event for its age', async () => {
    // A stream keeping events 2.5 s: an outage retried past 80% of that (2 s) is parked.
    await deleteStreams(jsm, streams);
    streams = testStreams({ maxAgeMs: 2_500, duplicateWindowMs: 1_000 });
    await ensureOwnedStreams(jsm, [streams.stream], { storage: 'memory' });
    await startConsumer({
      backoff: { initialMs: 100, maxMs: 200, multiplier: 2, jitter: 0 },
      handle: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
    });
    const started = Date.now();
    await publishEnvelope(nc.jetstream(), event('aging'));
    const [letter] = await parked(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(letter.deliveries).toBeGreaterThan(5);
    expect(letter.error).toMatch(
      /^Error: connect ECONNREFUSED 127\.0\.0\.1:5432 \(still failing after \d+ deliveries over 0 min; parked before the stream's age limit drops it\)$/,
    );
  });

  it('dead-letters a handler verdict of PermanentEventError on its first delivery', async () => {
    const attempts: number[] = [];
    await startConsumer({
      handle: async (e, { tx, deliveryCount }) => {
        if (e.type.endsWith('.poisoned')) {
          attempts.push(deliveryCount);
          throw new PermanentEventError('refers to a thing that\ncannot exist');
        }
        await recordHandled(e.data.id, tx);
      },
    });
    const poison = event('poison', 'poisoned');
    await publishEnvelope(nc.jetstream(), poison);
    await publishEnvelope(nc.jetstream(), event('after-poison'));
    await eventually('the later event', () => handledCount('after-poison'), 5_000);
    const [letter] = await parked(1);
    expect(letter.subject).toBe(poison.type);
    expect(letter.deliveries).toBe(1);
    expect(letter.eventId).toBe(poison.id);
    expect(letter.error).toBe('PermanentEventError: refers to a thing that cannot exist');
    expect(decodeEnvelope(letter.data)).toEqual(poison);
    expect(attempts).toEqual([1]);
    const info = await jsm.consumers.info(streams.stream.name, streams.consumerName);
    expect(info.num_ack_pending).toBe(0);
  });

  it('dead-letters a body that is no envelope, and data that breaks its contract, at once', async () => {
    const handled: string[] = [];
    await startConsumer({ handle: async (e) => void handled.push(e.data.id) });
    const js = nc.jetstream();
    await js.publish(streams.subject('thing', 'created'), Buffer.from('{"not":"an envelope"}'));
    const badData = createEnvelope('consumer-test', {
      type: streams.subject('thing', 'created'),
      data: { id: '' },
    });
    await publishEnvelope(js, badData);
    const letters = await parked(2);
    expect(letters.map((l) => l.deliveries)).toEqual([1, 1]);
    expect(letters[0].error).toMatch(/InvalidEnvelopeError/);
    expect(letters[1].error).toMatch(/MalformedEventError: .*id/);
    expect(handled).toEqual([]);
  });

  it('acks event types the consumer does not list without handling them', async () => {
    const handled: string[] = [];
    await startConsumer({ handle: async (e) => void handled.push(e.data.id) }, ['created']);
    await publishEnvelope(nc.jetstream(), event('unknown-kind', 'archived'));
    await publishEnvelope(nc.jetstream(), event('known'));
    await eventually('the known event', async () => (handled.length > 0 ? true : undefined));
    expect(handled).toEqual(['known']);
    expect(await parkedFor(jsm, streams)).toHaveLength(0);
  });

  it("parks a handler's deadLetter copy and commits the handler's own change", async () => {
    await startConsumer({
      handle: async (e, { tx, deadLetter }) => {
        await recordHandled(e.data.id, tx);
        await deadLetter('the national node refused it for good');
      },
    });
    await publishEnvelope(nc.jetstream(), event('refused'));
    const [letter] = await parked(1);
    expect(letter.error).toBe('the national node refused it for good');
    expect(letter.kind).toBe('verdict');
    expect(await handledCount('refused')).toBe(1);
    // Handled already: the consumer would skip a replay, so there is none.
    await expect(replayDeadLetter(nc, letter.seq)).rejects.toThrow(
      /is a verdict .*then discard it/,
    );
    expect(await parkedFor(jsm, streams)).toHaveLength(1);
  });

  it('a replayed dead letter reaches its consumer again, corrected if need be', async () => {
    const handled: string[] = [];
    await startConsumer({ handle: async (e) => void handled.push(e.data.id) });
    const broken = createEnvelope('consumer-test', {
      type: streams.subject('thing', 'created'),
      data: { id: '' },
    });
    await publishEnvelope(nc.jetstream(), broken);
    const [letter] = await parked(1);
    expect(letter.kind).toBe('failure');

    // A "correction" that is another event (new id) or another type is refused.
    for (const other of [
      { ...broken, id: randomUUID() },
      { ...broken, type: streams.subject('thing', 'poisoned') },
    ])
      await expect(
        replayDeadLetter(nc, letter.seq, { data: encodeEnvelope(other) }),
      ).rejects.toThrow(/must keep/);
    const fixed = { ...broken, data: { id: 'fixed' } };
    const replayed = await replayDeadLetter(nc, letter.seq, {
      data: encodeEnvelope(fixed),
    });
    expect(replayed.eventId).toBe(broken.id);
    await eventually('the replayed event', async () => (handled.length > 0 ? true : undefined));
    expect(handled).toEqual(['fixed']);
    expect(await parkedFor(jsm, streams)).toHaveLength(0);
    await expect(replayDeadLetter(nc, letter.seq)).rejects.toThrow(/no message/);
  });

  it('stops gracefully: the in-flight handler finishes and its message is acked', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const consumer = await startConsumer({
      handle: async (e, { tx }) => {
        entered();
        await gate;
        await recordHandled(e.data.id, tx);
      },
    });
    await publishEnvelope(nc.jetstream(), event('in-flight'));
    await inHandler;
    const stopping = consumer.stop();
    release();
    await stopping;
    expect(await handledCount('in-flight')).toBe(1);
    const info = await jsm.consumers.info(streams.stream.name, streams.consumerName);
    expect(info.num_ack_pending).toBe(0);
    expect(info.delivered.consumer_seq).toBe(1);
  });

  it('writes events through tx.emit only when the unit of work commits', async () => {
    const publisher = new OutboxPublisher('consumer-test');
    const uow = unitOfWork(dataSource, publisher);
    const id = randomUUID();
    await expect(
      uow.run(async (tx) => {
        await tx.emit(eventOf(streams.thing('created'), { id }));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await uow.run((tx) => tx.emit(eventOf(streams.thing('created'), { id })));
    const rows = await dataSource.query<{ data: { id: string } }[]>(
      `SELECT data::jsonb AS data FROM outbox_event`,
    );
    expect(rows.map((r) => r.data.id)).toEqual([id]);
  });
});
