import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { ROOT_CONTEXT, TraceFlags, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { createTestDatabase, testNatsUrl } from '@cinode/testing';
import { DatabaseModule } from '@cinode/database';
import {
  EVENT_ENTITIES,
  EventConsumerRegistry,
  EventEnvelope,
  EventsModule,
  NATS_CONNECTION,
  OutboxPublisher,
} from '../src';
import { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { TEST_MIGRATIONS, TestStreams, testStreams, waitFor } from './support';

interface Received {
  envelope: EventEnvelope<unknown>;
  traceId: string | undefined;
}

describe(EventsModule.name, () => {
  const contextManager = new AsyncLocalStorageContextManager();
  let streams: TestStreams;
  let app: TestingModule;
  let received: Promise<Received>;

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  beforeEach(async () => {
    streams = testStreams();
    let deliver!: (r: Received) => void;
    received = new Promise((resolve) => (deliver = resolve));
    const s = streams;

    @Injectable()
    class ThingCreatedListener implements OnModuleInit {
      constructor(private readonly consumers: EventConsumerRegistry) {}
      async onModuleInit(): Promise<void> {
        await this.consumers.register({
          name: s.consumerName,
          stream: s.stream.name,
          filterSubject: s.subject('thing', 'created'),
          handle: async (envelope) =>
            deliver({ envelope, traceId: trace.getSpanContext(context.active())?.traceId }),
        });
      }
    }

    @Module({ providers: [ThingCreatedListener] })
    class ListenerModule {}

    const url = await createTestDatabase('events_module');
    app = await Test.createTestingModule({
      imports: [
        DatabaseModule.forRoot({
          url,
          entities: EVENT_ENTITIES,
          migrations: TEST_MIGRATIONS,
          migrateOnStart: true,
        }),
        EventsModule.forRoot({
          natsUrl: testNatsUrl(),
          source: 'module-test',
          streams: [streams.stream],
          deadLetterStream: streams.dlq,
        }),
        ListenerModule,
      ],
    }).compile();
    app.enableShutdownHooks();
    await app.init();
  });

  afterEach(async () => {
    const nc = app.get<NatsConnection>(NATS_CONNECTION);
    const jsm = await nc.jetstreamManager();
    for (const name of [streams.stream.name, streams.dlq.name]) await jsm.streams.delete(name);
    await app.close();
    expect(nc.isClosed()).toBe(true);
  });

  it('carries an event from the outbox to a registered consumer, with its trace context', async () => {
    const dataSource = app.get(DataSource);
    const publisher = app.get(OutboxPublisher);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanContext = { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

    const sent = await context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () =>
      dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO thing (id) VALUES ('via-module')`);
        return publisher.enqueue(manager, {
          type: streams.subject('thing', 'created'),
          data: { id: 'via-module' },
        });
      }),
    );

    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no event within 10 s')), 10_000).unref(),
    );
    const got = await Promise.race([received, timeout]);
    expect(got.envelope).toEqual(sent);
    expect(got.envelope.source).toBe('module-test');
    expect(got.traceId).toBe(traceId);
    await waitFor('the outbox row to be marked', async () => {
      const [{ n }] = await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM outbox_event WHERE published_at IS NULL`,
      );
      return n === 0 ? true : undefined;
    });
  });
});
