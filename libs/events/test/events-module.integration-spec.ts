import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { ROOT_CONTEXT, TraceFlags, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { createTestDatabase, testNatsUrl, eventually } from '@cinode/testing';
import { eventOf } from '@cinode/contracts';
import { DatabaseModule, UnitOfWork } from '@cinode/database';
import {
  EVENT_ENTITIES,
  EventConsumerRegistry,
  EventEnvelope,
  EventsModule,
  NATS_CONNECTION,
} from '@cinode/events';
import { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { TEST_MIGRATIONS, TestStreams, testStreams } from './support';

interface Received {
  envelope: EventEnvelope<unknown>;
  data: unknown;
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
          source: s.things('created'),
          handle: async (event, { envelope }) =>
            deliver({
              envelope,
              data: event.data,
              traceId: trace.getSpanContext(context.active())?.traceId,
            }),
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
          owns: [streams.stream],
          streamOptions: { storage: 'memory' },
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
    await jsm.streams.delete(streams.stream.name);
    await app.close();
    expect(nc.isClosed()).toBe(true);
  });

  it('carries an event from the outbox to a registered consumer, with its trace context', async () => {
    const dataSource = app.get(DataSource);
    const uow = app.get(UnitOfWork);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanContext = { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

    await context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () =>
      uow.run(async (tx) => {
        await tx.manager.query(`INSERT INTO thing (id) VALUES ('via-module')`);
        await tx.emit(eventOf(streams.thing('created'), { id: 'via-module' }));
      }),
    );

    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no event within 10 s')), 10_000).unref(),
    );
    const got = await Promise.race([received, timeout]);
    expect(got.envelope.type).toBe(streams.subject('thing', 'created'));
    expect(got.data).toEqual({ id: 'via-module' });
    expect(got.envelope.source).toBe('module-test');
    expect(got.traceId).toBe(traceId);
    await eventually('the outbox row to be marked', async () => {
      const [{ n }] = await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM outbox_event WHERE published_at IS NULL`,
      );
      return n === 0 ? true : undefined;
    });
  });
});
