import { AckPolicy, connect, JSONCodec, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { createTestDatabase, testNatsUrl } from '../src/infra';

describe('test infrastructure', () => {
  it('creates separate empty databases that each accept queries', async () => {
    const [first, second] = await Promise.all([
      createTestDatabase('infra'),
      createTestDatabase('infra'),
    ]);
    expect(first).not.toEqual(second);

    for (const [url, marker] of [
      [first, 'first'],
      [second, 'second'],
    ] as const) {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const tables = await client.query(
          "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
        );
        expect(tables.rows[0].n).toBe(0);
        await client.query('CREATE TABLE marker (value text NOT NULL)');
        await client.query('INSERT INTO marker (value) VALUES ($1)', [marker]);
        const { rows } = await client.query<{ db: string; value: string }>(
          'SELECT current_database() AS db, value FROM marker',
        );
        expect(rows).toEqual([{ db: new URL(url).pathname.slice(1), value: marker }]);
      } finally {
        await client.end();
      }
    }
  });

  describe('NATS', () => {
    let nc: NatsConnection;

    beforeAll(async () => {
      nc = await connect({ servers: testNatsUrl() });
    });

    afterAll(async () => {
      await nc.drain();
    });

    it('round-trips a message through a JetStream stream with de-duplication and an explicit ack', async () => {
      const jsm = await nc.jetstreamManager();
      const stream = `infra${Date.now()}`;
      const subject = `cinode.test.${stream}.created`;
      await jsm.streams.add({ name: stream, subjects: [subject] });
      const codec = JSONCodec<{ hello: string }>();
      const js = nc.jetstream();

      const first = await js.publish(subject, codec.encode({ hello: 'world' }), { msgID: 'm-1' });
      const again = await js.publish(subject, codec.encode({ hello: 'world' }), { msgID: 'm-1' });
      expect(first.duplicate).toBe(false);
      expect(again.duplicate).toBe(true);

      await jsm.consumers.add(stream, { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
      const consumer = await js.consumers.get(stream, 'reader');
      const message = await consumer.next({ expires: 5000 });
      expect(message).not.toBeNull();
      expect(codec.decode(message!.data)).toEqual({ hello: 'world' });
      expect(message!.headers?.get('Nats-Msg-Id')).toBe('m-1');
      await message!.ackAck();

      const info = await jsm.consumers.info(stream, 'reader');
      expect(info.num_ack_pending).toBe(0);
      expect((await jsm.streams.info(stream)).state.messages).toBe(1);
      await jsm.streams.delete(stream);
    });
  });
});
