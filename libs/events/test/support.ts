import { createTestDatabase, testNatsUrl } from '@cinode/testing';
import { createDataSource, runMigrations } from '@cinode/database';
import { randomBytes } from 'node:crypto';
import { JetStreamManager, NatsConnection, StoredMsg, connect } from 'nats';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  CreateEventTables1763900000000,
  EVENT_ENTITIES,
  StreamDeclaration,
  ensureStreams,
} from '../src';

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

export const TEST_MIGRATIONS = [CreateEventTables1763900000000, CreateThing1763900000100];

export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** Polls `probe` until it returns a value, failing after `timeoutMs`; for conditions with no event to await. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
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

export interface TestStreams {
  suffix: string;
  /** Domain segment of this test's subjects, e.g. `t1a2b3c4d5`. */
  domain: string;
  stream: StreamDeclaration;
  dlq: StreamDeclaration;
  consumerName: string;
  subject(entity: string, verb: string): string;
}

/** Streams unique to one test, so parallel suites never share subjects. */
export function testStreams(): TestStreams {
  const suffix = uniqueSuffix();
  const domain = `t${suffix}`;
  const consumerName = `c_${suffix}`;
  return {
    suffix,
    domain,
    consumerName,
    stream: { name: `EV_${suffix}`, subjects: [`cinode.${domain}.>`], storage: 'memory' },
    dlq: { name: `DLQ_${suffix}`, subjects: [`cinode.dlq.${consumerName}`], storage: 'memory' },
    subject: (entity, verb) => `cinode.${domain}.${entity}.${verb}`,
  };
}

export async function connectNats(
  streams: TestStreams,
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: testNatsUrl(), name: `test-${streams.suffix}` });
  const jsm = await nc.jetstreamManager();
  await ensureStreams(jsm, [streams.stream, streams.dlq]);
  return { nc, jsm };
}

export async function deleteStreams(jsm: JetStreamManager, streams: TestStreams): Promise<void> {
  for (const name of [streams.stream.name, streams.dlq.name]) {
    await jsm.streams.delete(name).catch(() => false);
  }
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
