import { JetStreamManager, NatsConnection } from 'nats';
import { DataSource, EntityManager } from 'typeorm';
import {
  ConsumerDefinition,
  EventConsumer,
  EventEnvelope,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  publishEnvelope,
} from '../src';
import {
  TestStreams,
  connectNats,
  deleteStreams,
  migratedDataSource,
  streamMessages,
  testStreams,
  waitFor,
} from './support';

describe(EventConsumer.name, () => {
  let dataSource: DataSource;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let streams: TestStreams;
  const consumers: EventConsumer[] = [];

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
    definition: Omit<ConsumerDefinition, 'name' | 'stream'>,
  ): Promise<EventConsumer> {
    const consumer = new EventConsumer(dataSource, nc, {
      name: streams.consumerName,
      stream: streams.stream.name,
      deadLetterSubject: `cinode.dlq.${streams.consumerName}`,
      ...definition,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  }

  function event(id: string, verb = 'created'): EventEnvelope<{ id: string }> {
    return createEnvelope('consumer-test', { type: streams.subject('thing', verb), data: { id } });
  }

  async function handledCount(id: string): Promise<number | undefined> {
    const rows = await dataSource.query<{ handled_count: number }[]>(
      `SELECT handled_count FROM thing WHERE id = $1`,
      [id],
    );
    return rows[0]?.handled_count;
  }

  /** The handler's state change: counts how often it committed for this thing. */
  async function recordHandled(
    envelope: EventEnvelope<unknown>,
    manager: EntityManager,
  ): Promise<void> {
    const { id } = envelope.data as { id: string };
    await manager.query(
      `INSERT INTO thing (id, handled_count) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET handled_count = thing.handled_count + 1`,
      [id],
    );
  }

  it('processes a redelivered event once', async () => {
    const seen: number[] = [];
    await startConsumer({
      handle: async (envelope, { manager, deliveryCount }) => {
        seen.push(deliveryCount);
        await recordHandled(envelope, manager);
      },
    });
    const first = event('dup');
    // The same event arriving twice with different message ids, as after a publisher retry outside the
    // duplicate window: JetStream stores both, so only processed_event can stop the second.
    const js = nc.jetstream();
    await js.publish(first.type, encodeEnvelope(first), { msgID: `${first.id}-a` });
    await js.publish(first.type, encodeEnvelope(first), { msgID: `${first.id}-b` });
    const marker = event('marker');
    await publishEnvelope(js, marker);

    await waitFor('the marker after both copies', () => handledCount('marker'));
    expect(await handledCount('dup')).toBe(1);
    expect(seen).toHaveLength(2);
    const processed = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM processed_event WHERE consumer = $1 AND event_id = $2`,
      [streams.consumerName, first.id],
    );
    expect(processed[0].n).toBe(1);
  });

  it('rolls back a failed attempt, so a retry after a failure applies the change once', async () => {
    await startConsumer({
      backoff: { initialMs: 50, maxMs: 50, jitter: 0 },
      handle: async (envelope, { manager, deliveryCount }) => {
        await recordHandled(envelope, manager);
        if (deliveryCount === 1) throw new Error('transient failure after writing');
      },
    });
    await publishEnvelope(nc.jetstream(), event('retry'));
    await waitFor('the second delivery to succeed', () => handledCount('retry'));
    expect(await handledCount('retry')).toBe(1);
  });

  it('parks an always-failing event on the dead-letter subject after N attempts with growing delays, and goes on', async () => {
    const attempts: number[] = [];
    await startConsumer({
      maxDeliver: 3,
      backoff: { initialMs: 200, maxMs: 5_000, multiplier: 2, jitter: 0 },
      handle: async (envelope, { manager }) => {
        if (envelope.type.endsWith('.poisoned')) {
          attempts.push(Date.now());
          throw new Error('cannot handle\nthis event');
        }
        await recordHandled(envelope, manager);
      },
    });
    const js = nc.jetstream();
    const poison = event('poison', 'poisoned');
    await publishEnvelope(js, poison);
    await publishEnvelope(js, event('after-poison'));

    // The message behind the poison one is not held up by its retries.
    await waitFor('the later event', () => handledCount('after-poison'), 5_000);
    const parked = await waitFor('the dead-lettered message', async () => {
      const messages = await streamMessages(jsm, streams.dlq.name);
      return messages.length > 0 ? messages : undefined;
    });

    expect(parked).toHaveLength(1);
    expect(parked[0].subject).toBe(`cinode.dlq.${streams.consumerName}`);
    expect(decodeEnvelope(parked[0].data)).toEqual(poison);
    expect(parked[0].header.get('Cinode-Dlq-Deliveries')).toBe('3');
    expect(parked[0].header.get('Cinode-Dlq-Error')).toBe('Error: cannot handle this event');
    expect(parked[0].header.get('Cinode-Dlq-Subject')).toBe(poison.type);
    expect(attempts).toHaveLength(3);
    // Nak delays of 200 ms then 400 ms are lower bounds the server honours.
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(190);
    expect(attempts[2] - attempts[1]).toBeGreaterThanOrEqual(390);

    // Terminated, not redelivered: a later event is still processed and the poison one never again.
    await publishEnvelope(js, event('later'));
    await waitFor('an event after parking', () => handledCount('later'), 5_000);
    expect(attempts).toHaveLength(3);
    const info = await jsm.consumers.info(streams.stream.name, streams.consumerName);
    expect(info.num_ack_pending).toBe(0);
  });

  it('parks a malformed message at once', async () => {
    await startConsumer({ handle: async () => undefined });
    await nc
      .jetstream()
      .publish(streams.subject('thing', 'created'), Buffer.from('{"not":"an envelope"}'));
    const parked = await waitFor('the malformed message', async () => {
      const messages = await streamMessages(jsm, streams.dlq.name);
      return messages.length > 0 ? messages : undefined;
    });
    expect(parked[0].header.get('Cinode-Dlq-Deliveries')).toBe('1');
    expect(parked[0].header.get('Cinode-Dlq-Error')).toMatch(/InvalidEnvelopeError/);
  });

  it('stops gracefully: the in-flight handler finishes and its message is acked', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const consumer = await startConsumer({
      handle: async (envelope, { manager }) => {
        entered();
        await gate;
        await recordHandled(envelope, manager);
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
});
