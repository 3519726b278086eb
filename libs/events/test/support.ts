import { createTestDatabase, testNatsUrl } from '@cinode/testing';
import { createDataSource, runMigrations } from '@cinode/database';
import { randomBytes } from 'node:crypto';
import { JetStreamManager, NatsConnection, StoredMsg, connect } from 'nats';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  DEAD_LETTER_STREAM,
  defineEvent,
  defineEventSource,
  defineStream,
  type EventContract,
  type EventSource,
  type StreamContract,
} from '@cinode/contracts';
import { TransactionExtensions, UnitOfWork } from '@cinode/database';
import { z } from 'zod';
import {
  EVENT_ENTITIES,
  EVENT_MIGRATIONS,
  OutboxPublisher,
  ensureConsumedStreams,
  ensureOwnedStreams,
  listDeadLetters,
  type DeadLetter,
  type EventEnvelope,
} from '@cinode/events';
import type { EntityManager } from 'typeorm';

/** A table standing for a service's own state, changed in the same transaction as the event. */
export class CreateThing1763900000100 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE thing (id text PRIMARY KEY, handled_count integer NOT NULL DEFAULT 0)`,
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE thing`);
  }
}

export const TEST_MIGRATIONS = [...EVENT_MIGRATIONS, CreateThing1763900000100];

export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

export async function migratedDataSource(prefix: string): Promise<DataSource> {
  const url = await createTestDatabase(prefix);
  const dataSource = await createDataSource({
    url,
    entities: EVENT_ENTITIES,
    migrations: TEST_MIGRATIONS,
    poolSize: 20,
  }).initialize();
  await runMigrations(dataSource, 'events-test');
  return dataSource;
}

export const thingData = z.object({ id: z.string().min(1) });
export type ThingContract = EventContract<z.infer<typeof thingData>>;

export interface TestStreams {
  suffix: string;
  /** Domain segment of this test's subjects, e.g. `t1a2b3c4d5`. */
  domain: string;
  stream: StreamContract;
  consumerName: string;
  subject(entity: string, verb: string): string;
  /** The contract of `cinode.<domain>.thing.<verb>` events, data `{ id }`. */
  thing(verb: string): ThingContract;
  /** A source over `cinode.<domain>.thing.>` listing the given verbs. */
  things(...verbs: string[]): EventSource<ThingContract>;
}

/** Streams unique to one test, so parallel suites never share subjects. */
export function testStreams(
  limits: { maxAgeMs?: number; duplicateWindowMs?: number } = {},
): TestStreams {
  const suffix = uniqueSuffix();
  const domain = `t${suffix}`;
  const consumerName = `c_${suffix}`;
  const stream = defineStream({
    name: `EV_${suffix}`,
    subjects: [`cinode.${domain}.>`],
    owner: 'events-test',
    description: 'test events',
    ...limits,
  });
  const subject = (entity: string, verb: string) => `cinode.${domain}.${entity}.${verb}`;
  const thing = (verb: string): ThingContract =>
    defineEvent({
      type: subject('thing', verb),
      stream,
      schemaVersion: 1,
      schema: thingData,
      description: `thing ${verb}`,
    });
  return {
    suffix,
    domain,
    consumerName,
    stream,
    subject,
    thing,
    things: (...verbs) =>
      defineEventSource({
        stream,
        filterSubject: `cinode.${domain}.thing.>`,
        events: verbs.map(thing),
      }),
  };
}

export async function connectNats(
  streams: TestStreams,
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: testNatsUrl(), name: `test-${streams.suffix}` });
  const jsm = await nc.jetstreamManager();
  await ensureOwnedStreams(jsm, [streams.stream], { storage: 'memory' });
  // The shared dead-letter stream; each test's consumer name keeps its parked messages apart.
  await ensureConsumedStreams(jsm, [DEAD_LETTER_STREAM], { storage: 'memory' });
  return { nc, jsm };
}

/** A unit of work over the data source whose transactions write the outbox with `publisher`. */
export function unitOfWork(dataSource: DataSource, publisher?: OutboxPublisher): UnitOfWork {
  const extensions = new TransactionExtensions();
  if (publisher) extensions.setOutbox(publisher);
  return new UnitOfWork(dataSource, extensions);
}

/** Writes one event into the outbox in the given transaction and returns its envelope. */
export async function enqueue(
  publisher: OutboxPublisher,
  manager: EntityManager,
  event: { type: string; data: unknown },
): Promise<EventEnvelope> {
  const [envelope] = await publisher.write(manager, [{ schemaVersion: 1, ...event }]);
  return envelope;
}

export async function deleteStreams(jsm: JetStreamManager, streams: TestStreams): Promise<void> {
  await jsm.streams.delete(streams.stream.name).catch(() => false);
}

/** This test consumer's parked messages, oldest first. */
export function parkedFor(jsm: JetStreamManager, streams: TestStreams): Promise<DeadLetter[]> {
  return listDeadLetters(jsm, { consumer: streams.consumerName, limit: 10_000 });
}

export async function streamMessages(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const info = await jsm.streams.info(stream);
  const messages: StoredMsg[] = [];
  for (
    let seq = info.state.first_seq;
    seq <= info.state.last_seq && info.state.messages > 0;
    seq++
  ) {
    messages.push(await jsm.streams.getMessage(stream, { seq }));
  }
  return messages;
}
