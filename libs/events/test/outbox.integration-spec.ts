import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { findFreePort, findNatsServer } from '@cinode/local-infra';
import { uuidv7 } from '@cinode/common';
import { eventually } from '@cinode/testing';

import { JetStreamClient, JetStreamManager, NatsConnection, PubAck, connect } from 'nats';
import { DataSource } from 'typeorm';
import {
  OutboxPublisher,
  OutboxRelay,
  OutboxRow,
  decodeEnvelope,
  ensureOwnedStreams,
  jetStreamAccepts,
  envelopeFromRow,
  listParkedOutboxRows,
  publishEnvelope,
  requeueParkedOutboxRows,
  runOutboxCli,
} from '@cinode/events';
import {
  TestStreams,
  connectNats,
  deleteStreams,
  enqueue,
  migratedDataSource,
  streamMessages,
  testStreams,
} from './support';

describe('transactional outbox', () => {
  let dataSource: DataSource;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let streams: TestStreams;
  const relays: OutboxRelay[] = [];
  const publisher = new OutboxPublisher('outbox-test');

  beforeEach(async () => {
    streams = testStreams();
    dataSource = await migratedDataSource('events_outbox');
    ({ nc, jsm } = await connectNats(streams));
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await deleteStreams(jsm, streams);
    await nc.drain();
    await dataSource.destroy();
  });

  function relay(
    options: ConstructorParameters<typeof OutboxRelay>[2] = {},
    js: JetStreamClient = nc.jetstream(),
  ): OutboxRelay {
    const r = new OutboxRelay(dataSource, js, { pollIntervalMs: 200, ...options });
    relays.push(r);
    return r;
  }

  async function createThing(id: string): Promise<string> {
    const envelope = await dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO thing (id) VALUES ($1)`, [id]);
      return enqueue(publisher, manager, {
        type: streams.subject('thing', 'created'),
        data: { id },
      });
    });
    return envelope.id;
  }

  async function count(sql: string): Promise<number> {
    const [{ n }] = await dataSource.query<{ n: number }[]>(sql);
    return n;
  }

  async function unpublished(): Promise<number> {
    return count(`SELECT count(*)::int AS n FROM outbox_event WHERE published_at IS NULL`);
  }

  /** Waits until no row is left unpublished; the event ids in the stream, in its order. */
  async function publishedWhenDrained(what: string, timeoutMs: number): Promise<string[]> {
    await eventually(what, async () => ((await unpublished()) === 0 ? true : undefined), timeoutMs);
    const published = await streamMessages(jsm, streams.stream.name);
    return published.map((m) => decodeEnvelope(m.data).id);
  }

  it('commits the state change and the event together, and a rollback leaves neither', async () => {
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO thing (id) VALUES ('rolled-back')`);
        await enqueue(publisher, manager, {
          type: streams.subject('thing', 'created'),
          data: { id: 'rolled-back' },
        });
        throw new Error('business rule failed after the event was enqueued');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await count(`SELECT count(*)::int AS n FROM thing`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM outbox_event`)).toBe(0);

    const id = await createThing('kept');
    expect(await count(`SELECT count(*)::int AS n FROM thing`)).toBe(1);
    const [row] = await dataSource.query<{ id: string; source: string; data: unknown }[]>(
      `SELECT id, source, data::jsonb AS data FROM outbox_event`,
    );
    expect(row).toEqual({ id, source: 'outbox-test', data: { id: 'kept' } });

    // A rolled-back transaction must also not have woken anyone or published anything.
    expect(await relay().relayOnce()).toEqual({
      claimed: 1,
      published: 1,
      duplicates: 0,
      failed: 0,
      parked: 0,
    });
    const messages = await streamMessages(jsm, streams.stream.name);
    expect(messages.map((m) => decodeEnvelope(m.data).id)).toEqual([id]);
  });

  it('refuses to enqueue outside a transaction', async () => {
    await expect(
      enqueue(publisher, dataSource.manager, {
        type: streams.subject('thing', 'created'),
        data: {},
      }),
    ).rejects.toThrow(/only inside a transaction/);
  });

  it('publishes once when a relay died after publishing but before marking the row', async () => {
    const id = await createThing('crash');

    // What a relay does up to the crash: claim, publish, then lose its transaction before commit.
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const rows: OutboxRow[] = await runner.query(
      `SELECT id, type, source, schema_version, occurred_at, data::jsonb AS data, trace_context FROM outbox_event WHERE published_at IS NULL FOR UPDATE SKIP LOCKED`,
    );
    const ack: PubAck = await publishEnvelope(nc.jetstream(), envelopeFromRow(rows[0]));
    expect(ack.duplicate).toBe(false);
    await runner.rollbackTransaction();
    await runner.release();
    expect(await unpublished()).toBe(1);

    const fresh = relay();
    expect(await fresh.relayOnce()).toEqual({
      claimed: 1,
      published: 0,
      duplicates: 1,
      failed: 0,
      parked: 0,
    });
    expect(await unpublished()).toBe(0);
    const messages = await streamMessages(jsm, streams.stream.name);
    expect(messages.map((m) => decodeEnvelope(m.data).id)).toEqual([id]);
    expect(messages[0].header.get('Nats-Msg-Id')).toBe(id);
  });

  it('a fresh relay picks up a row that was never published, woken by NOTIFY rather than its poll', async () => {
    const id = await createThing('never-published');
    // The poll interval is far beyond the wait below, so only the start-up round or NOTIFY can publish.
    const r = relay({ pollIntervalMs: 120_000 });
    r.start();
    await eventually('the existing row to be published', async () =>
      (await unpublished()) === 0 ? true : undefined,
    );

    const second = await createThing('after-start');
    await eventually(
      'the NOTIFY-woken round',
      async () => ((await unpublished()) === 0 ? true : undefined),
      5_000,
    );
    const messages = await streamMessages(jsm, streams.stream.name);
    expect(messages.map((m) => decodeEnvelope(m.data).id)).toEqual([id, second]);
  });

  it('keeps rows and records the error while NATS rejects publishes, then publishes them', async () => {
    const id = await createThing('nats-down');
    const down: Pick<JetStreamClient, 'publish'> = {
      publish: () => Promise.reject(new Error('503 no responders')),
    };
    // Nothing publishes and NATS does not answer: an outage, which no row is charged for.
    const failing = relay(
      { maxAttempts: 1, transportCheck: async () => false },
      down as JetStreamClient,
    );
    for (let round = 0; round < 3; round++) {
      expect(await failing.relayOnce()).toEqual({
        claimed: 1,
        published: 0,
        duplicates: 0,
        failed: 1,
        parked: 0,
      });
    }
    const [row] = await dataSource.query<
      { attempts: number; last_error: string; published_at: Date | null; parked_at: Date | null }[]
    >(`SELECT attempts, last_error, published_at, parked_at FROM outbox_event WHERE id = $1`, [id]);
    expect(row).toEqual({
      attempts: 0,
      last_error: '503 no responders',
      published_at: null,
      parked_at: null,
    });

    expect(await relay().relayOnce()).toMatchObject({ published: 1, failed: 0 });
    expect(await unpublished()).toBe(0);
  });

  it('charges no row while core NATS answers but JetStream does not', async () => {
    // A NATS server without JetStream: pings succeed, every publish to a stream fails.
    const binary = findNatsServer();
    if (!binary) throw new Error('nats-server is not installed');
    const port = await findFreePort();
    const core = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    try {
      const coreNc = await eventually('the JetStream-less server', () =>
        connect({ servers: `127.0.0.1:${port}` }),
      );
      try {
        await coreNc.flush();
        await expect(
          jetStreamAccepts(coreNc, 'cinode.things.thing.created', 500),
        ).rejects.toThrow();
        const id = await createThing('jetstream-down');
        const failing = relay(
          {
            maxAttempts: 1,
            publishTimeoutMs: 500,
            transportCheck: (subject) => jetStreamAccepts(coreNc, subject, 500),
          },
          coreNc.jetstream({ timeout: 500 }),
        );
        for (let round = 0; round < 2; round++) {
          expect(await failing.relayOnce()).toMatchObject({ parked: 0 });
        }
        const [row] = await dataSource.query<{ attempts: number; parked_at: Date | null }[]>(
          `SELECT attempts, parked_at FROM outbox_event WHERE id = $1`,
          [id],
        );
        expect(row).toEqual({ attempts: 0, parked_at: null });
      } finally {
        await coreNc.close();
      }
    } finally {
      core.kill('SIGTERM');
    }
  });

  it('charges no row while a stream of its own is missing, declares it again, then publishes', async () => {
    const id = await createThing('stream-gone');
    // JetStream's state lost, or the stream deleted by hand.
    await jsm.streams.delete(streams.stream.name);
    let redeclared = 0;
    const r = relay({
      maxAttempts: 1,
      backoff: { initialMs: 1, maxMs: 1, multiplier: 1, jitter: 0 },
      transportCheck: (subject) =>
        jetStreamAccepts(nc, subject, 2_000, {
          streams: [streams.stream],
          redeclare: async (missing) => {
            redeclared += 1;
            expect(missing).toEqual([streams.stream]);
            await ensureOwnedStreams(jsm, missing, { storage: 'memory' });
          },
        }),
    });
    expect(await r.relayOnce()).toMatchObject({ published: 0, failed: 1, parked: 0 });
    expect(redeclared).toBe(1);
    const [row] = await dataSource.query<{ attempts: number; parked_at: Date | null }[]>(
      `SELECT attempts, parked_at FROM outbox_event WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ attempts: 0, parked_at: null });
    await eventually('the row published into the stream declared again', async () => {
      const round = await r.relayOnce();
      return round.published === 1 ? round : undefined;
    });
    const published = await streamMessages(jsm, streams.stream.name);
    expect(published.map((m) => decodeEnvelope(m.data).id)).toEqual([id]);
  });

  it('sets a row NATS keeps refusing aside, without slowing the others, and requeues it on request', async () => {
    const poison = await dataSource.transaction((manager) =>
      // A subject no stream listens on: JetStream refuses it, every time.
      enqueue(publisher, manager, {
        type: `cinode.nowhere${streams.suffix}.thing.created`,
        data: {},
      }),
    );
    const good = [await createThing('good-1'), await createThing('good-2')];
    // The relay's own check: JetStream answers, and no stream takes the subject: the row's fault.
    const r = relay({
      maxAttempts: 3,
      backoff: { initialMs: 1, maxMs: 1, multiplier: 1, jitter: 0 },
      transportCheck: (subject) => jetStreamAccepts(nc, subject),
    });
    expect(await r.relayOnce()).toMatchObject({ claimed: 3, published: 2, failed: 1, parked: 0 });
    // The failing row waits on its own delay; the next events go out at once.
    const later = await createThing('good-3');
    await eventually('the poison row to be parked', async () => {
      const round = await r.relayOnce();
      return round.parked === 1 ? round : undefined;
    });
    expect(await unpublished()).toBe(1);
    const published = await streamMessages(jsm, streams.stream.name);
    expect(published.map((m) => decodeEnvelope(m.data).id)).toEqual([...good, later]);

    const [parked] = await listParkedOutboxRows(dataSource);
    expect(parked).toMatchObject({ id: poison.id, attempts: 3 });
    expect(parked.lastError).toMatch(/no responders|503/);
    expect(await r.relayOnce()).toMatchObject({ claimed: 0 });
    expect(await r.refreshPending()).toBe(0);

    // What an operator runs: npm run outbox -- list / requeue.
    const env = { DATABASE_URL: String((dataSource.options as { url?: string }).url) };
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await runOutboxCli(['list'], env, io)).toBe(0);
    expect(lines.join('\n')).toContain(poison.id);
    expect(await runOutboxCli(['requeue', 'not-a-uuid'], env, io)).toBe(2);
    expect(await runOutboxCli(['requeue', poison.id], env, io)).toBe(0);
    expect(lines).toContain('requeued 1 row(s)');
    expect(lines.join('\n')).not.toContain('warning');
    expect(await listParkedOutboxRows(dataSource)).toEqual([]);
    expect(await requeueParkedOutboxRows(dataSource)).toBe(0);
    expect(await r.relayOnce()).toMatchObject({ claimed: 1, failed: 1, parked: 0 });

    // Parked again, and old: consumers may have forgotten it by now, which the CLI says.
    await dataSource.query(
      `UPDATE outbox_event SET parked_at = now(), created_at = now() - interval '40 days' WHERE id = $1`,
      [poison.id],
    );
    expect(await runOutboxCli(['requeue', '--all'], env, io)).toBe(0);
    expect(lines.join('\n')).toMatch(/warning: 1 of them were enqueued more than 31 days ago/);
  });

  it('claims no more event data a round than its byte budget (its first row whatever its size), and drains the rest in order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createThing(`sized-${i}`));
    const sizes = await dataSource.query<{ size: number }[]>(
      `SELECT octet_length(data) AS size FROM outbox_event WHERE id = ANY($1::uuid[])
       ORDER BY created_at, id`,
      [ids],
    );
    // Room for the first two rows only (one byte less would leave the second out).
    const r = relay({ maxRoundBytes: sizes[0].size + sizes[1].size });
    expect(await r.relayOnce()).toMatchObject({ claimed: 2, published: 2 });
    expect(await r.relayOnce()).toMatchObject({ claimed: 2, published: 2 });
    expect(await r.relayOnce()).toMatchObject({ claimed: 1, published: 1 });
    // A budget smaller than any row still moves one a round.
    await createThing('sized-late');
    await createThing('sized-later');
    const tiny = relay({ maxRoundBytes: 1 });
    expect(await tiny.relayOnce()).toMatchObject({ claimed: 1, published: 1 });
    expect(await tiny.relayOnce()).toMatchObject({ claimed: 1, published: 1 });
    expect(() => relay({ maxRoundBytes: 0 })).toThrow(RangeError);
    const published = await streamMessages(jsm, streams.stream.name);
    expect(published.map((m) => decodeEnvelope(m.data).id).slice(0, 5)).toEqual(ids);
    expect(await unpublished()).toBe(0);
  });

  it('runs round after round within its byte budget, in creation order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push(await createThing(`budget-${i}`));
    const [{ size }] = await dataSource.query<{ size: number }[]>(
      `SELECT max(octet_length(data)) AS size FROM outbox_event WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    // Two rows a round at most of four locked, several rounds allowed in flight: a cut round is
    // waited for, or the next would lock rows past the two it left and publish them first.
    const r = relay({ maxRoundBytes: 2 * size, batchSize: 4, concurrency: 4 });
    r.start();
    expect(await publishedWhenDrained('every row to be published', 15_000)).toEqual(ids);
    expect(r.stats).toMatchObject({ published: 9, duplicates: 0, failed: 0 });
  });

  it('publishes in creation order with several rounds in flight', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      // Transactions of 25 events each: their rows share created_at, and uuidv7 ids keep the order.
      ids.push(
        ...(await dataSource.transaction(async (manager) => {
          const written: string[] = [];
          for (let j = 0; j < 25; j++)
            written.push(
              (
                await enqueue(publisher, manager, {
                  type: streams.subject('thing', 'created'),
                  data: { id: `t${i}-${j}` },
                })
              ).id,
            );
          return written;
        })),
      );
    }
    // Acks held back a while, so later rounds are claimed and published before earlier ones commit.
    const js = nc.jetstream();
    let inFlight = 0;
    let mostInFlight = 0;
    const slowAcks = {
      publish: async (...args: Parameters<JetStreamClient['publish']>): Promise<PubAck> => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        const ack = await js.publish(...args);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return ack;
      },
    } as JetStreamClient;
    const r = relay({ batchSize: 7, concurrency: 4 }, slowAcks);
    r.start();
    expect(await publishedWhenDrained('every row to be published', 30_000)).toEqual(ids);
    expect(r.stats).toMatchObject({ published: 300, duplicates: 0, failed: 0 });
    // More than one round's publishes were awaiting their acks at once.
    expect(mostInFlight).toBeGreaterThan(7);
  });

  it('publishes the rest of a round whose middle publish fails, and that row later under the same id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createThing(`round-${i}`));
    const js = nc.jetstream();
    let refused = 0;
    const oneRefusal = {
      publish: (...args: Parameters<JetStreamClient['publish']>): Promise<PubAck> => {
        if (args[2]?.msgID === ids[2] && refused++ === 0)
          return Promise.reject(new Error('timeout waiting for the ack'));
        return js.publish(...args);
      },
    } as JetStreamClient;
    const r = relay(
      {
        backoff: { initialMs: 1, maxMs: 1, multiplier: 1, jitter: 0 },
        transportCheck: async () => true,
      },
      oneRefusal,
    );
    expect(await r.relayOnce()).toEqual({
      claimed: 5,
      published: 4,
      duplicates: 0,
      failed: 1,
      parked: 0,
    });
    const rows = await dataSource.query<
      { id: string; published: boolean; attempts: number; last_error: string | null }[]
    >(
      `SELECT id, published_at IS NOT NULL AS published, attempts, last_error
         FROM outbox_event ORDER BY created_at, id`,
    );
    expect(rows).toEqual(
      ids.map((id, i) =>
        i === 2
          ? // A timed-out publish may have been stored: delayed, but not charged towards parking.
            { id, published: false, attempts: 0, last_error: 'timeout waiting for the ack' }
          : { id, published: true, attempts: 1, last_error: null },
      ),
    );
    let before = await streamMessages(jsm, streams.stream.name);
    expect(before.map((m) => decodeEnvelope(m.data).id)).toEqual([ids[0], ids[1], ids[3], ids[4]]);

    // Its own delay passed, it goes out on its own, with its event id as Nats-Msg-Id.
    await eventually('the failed row to be retried', async () => {
      const round = await r.relayOnce();
      return round.published === 1 ? round : undefined;
    });
    expect(await unpublished()).toBe(0);
    before = await streamMessages(jsm, streams.stream.name);
    expect(before.map((m) => decodeEnvelope(m.data).id)).toEqual([
      ids[0],
      ids[1],
      ids[3],
      ids[4],
      ids[2],
    ]);
    expect(before[4].header.get('Nats-Msg-Id')).toBe(ids[2]);
  });

  it('publishes a round again, de-duplicated, when its connection dies between the acks and the mark', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createThing(`crash-${i}`));
    const js = nc.jetstream();
    let acked = 0;
    const crashAfterAcks = {
      publish: async (...args: Parameters<JetStreamClient['publish']>): Promise<PubAck> => {
        const ack = await js.publish(...args);
        // Every event is in the stream: the relay's transaction dies before it marks any row.
        if (++acked === ids.length)
          await dataSource.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND query LIKE '%SKIP LOCKED%'`,
          );
        return ack;
      },
    } as JetStreamClient;
    await expect(relay({}, crashAfterAcks).relayOnce()).rejects.toThrow();
    expect(await unpublished()).toBe(ids.length);
    expect(await streamMessages(jsm, streams.stream.name)).toHaveLength(ids.length);

    const fresh = relay();
    expect(await fresh.relayOnce()).toEqual({
      claimed: ids.length,
      published: 0,
      duplicates: ids.length,
      failed: 0,
      parked: 0,
    });
    expect(await unpublished()).toBe(0);
    const messages = await streamMessages(jsm, streams.stream.name);
    expect(messages.map((m) => decodeEnvelope(m.data).id)).toEqual(ids);
    expect(messages.map((m) => m.header.get('Nats-Msg-Id'))).toEqual(ids);
  });

  it('goes on relaying, in creation order, once NATS is back after an outage', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await createThing(`outage-${i}`));
    const js = nc.jetstream();
    let down = true;
    const flaky = {
      publish: (...args: Parameters<JetStreamClient['publish']>): Promise<PubAck> =>
        down ? Promise.reject(new Error('503 no responders')) : js.publish(...args),
    } as JetStreamClient;
    const r = relay(
      {
        batchSize: 3,
        concurrency: 3,
        backoff: { initialMs: 10, maxMs: 20, multiplier: 1, jitter: 0 },
        transportCheck: async () => !down,
      },
      flaky,
    );
    r.start();
    await eventually('rounds to fail a few times over', async () =>
      r.stats.failed >= 9 ? true : undefined,
    );
    down = false;
    expect(
      await publishedWhenDrained('every row to be published after the outage', 10_000),
    ).toEqual(ids);
    const [{ charged }] = await dataSource.query<{ charged: number }[]>(
      `SELECT count(*) FILTER (WHERE attempts > 1)::int AS charged FROM outbox_event`,
    );
    // The outage was charged to no row: each was attempted once successfully.
    expect(charged).toBe(0);
  });

  it('prunes rows published longer than its retention ago, a batch at a time, and no others', async () => {
    const DAY = 86_400_000;
    const row = (id: string, publishedAt: Date | null) =>
      dataSource.query(
        `INSERT INTO outbox_event (id, type, source, schema_version, occurred_at, data, created_at,
           published_at) VALUES ($1, 'thing.created', 'outbox-test', 1, $2, '{}', $2, $3)`,
        [id, new Date(Date.now() - 10 * DAY), publishedAt],
      );
    // 2,500 published ten days ago, all in the same microsecond (one round's mark), so batches
    // of 1,000 go on past ties; one with a random (v4) id, as an old migration wrote; made as
    // long ago but published an hour ago (a parked row requeued), or never; made and published
    // just now.
    await dataSource.query(
      `INSERT INTO outbox_event (id, type, source, schema_version, occurred_at, data, created_at,
         published_at)
       SELECT id::uuid, 'thing.created', 'outbox-test', 1, now(), '{}', now(), now() - interval '10 days'
       FROM unnest($1::text[]) AS id`,
      [Array.from({ length: 2_500 }, (_, i) => uuidv7(Date.now() - 10 * DAY - i))],
    );
    await row(randomUUID(), new Date(Date.now() - 10 * DAY));
    await row(uuidv7(Date.now() - 10 * DAY), new Date(Date.now() - 3_600_000));
    await row(uuidv7(Date.now() - 10 * DAY), null);
    await row(uuidv7(), new Date());
    const relayOf7Days = relay({ retentionMs: 7 * DAY, pruneBatchSize: 1_000 });
    expect(await relayOf7Days.prune()).toBe(2_501);
    expect(await count(`SELECT count(*)::int AS n FROM outbox_event`)).toBe(3);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM outbox_event WHERE published_at < now() - interval '7 days'`,
      ),
    ).toBe(0);
    expect(await relayOf7Days.prune()).toBe(0);
    // A running relay prunes by itself (at start, then hourly), beside its rounds.
    await row(uuidv7(Date.now() - 9 * DAY), new Date(Date.now() - 9 * DAY));
    relay({ retentionMs: 7 * DAY }).start();
    await eventually(
      'the running relay to prune the old row',
      async () =>
        (await count(`SELECT count(*)::int AS n FROM outbox_event`)) === 3 ? true : undefined,
      10_000,
    );
  });

  it('two relays running concurrently publish each event exactly once', async () => {
    const a = relay({ batchSize: 7 });
    const b = relay({ batchSize: 7 });
    a.start();
    b.start();
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, writer) => {
        for (let i = 0; i < 40; i++) ids.push(await createThing(`w${writer}-${i}`));
      }),
    );
    await eventually(
      'every row to be published',
      async () => ((await unpublished()) === 0 ? true : undefined),
      30_000,
    );

    const published = await streamMessages(jsm, streams.stream.name);
    expect(published).toHaveLength(160);
    expect(new Set(published.map((m) => decodeEnvelope(m.data).id))).toEqual(new Set(ids));
    // Not even a deduplicated second publish: SKIP LOCKED kept the relays on disjoint rows.
    expect(a.stats.published + b.stats.published).toBe(160);
    expect(a.stats.duplicates + b.stats.duplicates).toBe(0);
    expect(a.stats.published).toBeGreaterThan(0);
    expect(b.stats.published).toBeGreaterThan(0);
  });
});
