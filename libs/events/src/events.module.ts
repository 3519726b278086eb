import {
  BeforeApplicationShutdown,
  DynamicModule,
  Inject,
  Injectable,
  InjectionToken,
  Logger,
  Module,
  ModuleMetadata,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  OptionalFactoryDependency,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DEAD_LETTER_STREAM, type StreamContract } from '@cinode/contracts';
import { TransactionExtensions, UnitOfWork } from '@cinode/database';
import { NatsConnection, connect } from 'nats';
import { DataSource } from 'typeorm';
import type { BackoffPolicy } from './backoff';
import { EventConsumerRegistry } from './consumer/event-consumer.registry';
import { OutboxPublisher } from './outbox/outbox.publisher';
import { OutboxRelay, OutboxRelayOptions, jetStreamAccepts } from './outbox/outbox.relay';
import { pruneProcessedEvents } from './consumer/processed-event-pruning';
import { ensureConsumedStreams, ensureOwnedStreams, type StreamOptions } from './streams';

export interface EventsModuleOptions {
  /** Defaults to the NATS_URL environment variable. */
  natsUrl?: string;
  /** This service's name: the `source` of every event it produces and its NATS connection name. */
  source: string;
  /** Streams this service owns (from @cinode/contracts); created or updated at start-up. */
  owns: readonly StreamContract[];
  /** Retry policy of this service's consumers (capped backoff; deliveries are unlimited). */
  consumerBackoff?: BackoffPolicy;
  /** The relay runs unless `enabled: false` (e.g. a service that only consumes). */
  relay?: OutboxRelayOptions & { enabled?: boolean };
  /** Replicas of the streams it creates (EVENT_STREAM_REPLICAS); memory-backed streams in tests. */
  streamOptions?: StreamOptions;
  /** How long consumers remember handled events (PROCESSED_EVENT_RETENTION_MS; 0 keeps them). */
  processedEventRetentionMs?: number;
}

/** How often processed_event is pruned. */
const PRUNE_EVERY_MS = 3_600_000;

export interface EventsModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => EventsModuleOptions | Promise<EventsModuleOptions>;
}

export const EVENTS_MODULE_OPTIONS = Symbol('EVENTS_MODULE_OPTIONS');
/** Injection token of the service's NatsConnection. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

async function connectAndDeclare(options: EventsModuleOptions): Promise<NatsConnection> {
  const servers = options.natsUrl ?? process.env.NATS_URL;
  if (!servers) throw new Error('EventsModule: natsUrl is not set and NATS_URL is empty');
  const nc = await connect({
    servers: servers.split(','),
    name: options.source,
    // A node outlives NATS restarts: keep reconnecting; the outbox holds events meanwhile.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    // Without this the client captures a stack trace (new Error()) for every request, i.e. for
    // every event the relay publishes; it only decorates the rare failed request's stack.
    noAsyncTraces: true,
  });
  try {
    const jsm = await nc.jetstreamManager();
    await ensureOwnedStreams(jsm, options.owns, options.streamOptions);
    await ensureConsumedStreams(jsm, [DEAD_LETTER_STREAM], options.streamOptions);
  } catch (error) {
    await nc.close();
    throw error;
  }
  return nc;
}

@Injectable()
export class EventsLifecycle
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('Events');

  constructor(
    @Inject(EVENTS_MODULE_OPTIONS) private readonly options: EventsModuleOptions,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly relay: OutboxRelay,
    private readonly consumers: EventConsumerRegistry,
    private readonly publisher: OutboxPublisher,
    private readonly extensions: TransactionExtensions,
    @Inject(getDataSourceToken()) private readonly dataSource: DataSource,
  ) {}

  private pruneTimer?: NodeJS.Timeout;

  private async prune(): Promise<void> {
    const retention = this.options.processedEventRetentionMs ?? 0;
    if (retention <= 0) return;
    try {
      const deleted = await pruneProcessedEvents(this.dataSource, retention);
      if (deleted > 0) this.logger.log(`forgot ${deleted} processed event(s) past their retention`);
    } catch (error) {
      this.logger.warn(
        `pruning processed events failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  onModuleInit(): void {
    this.extensions.setOutbox(this.publisher);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.relay?.enabled !== false) this.relay.start();
    await this.consumers.startAll();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Runs before any onApplicationShutdown, i.e. while the data source is still open. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.consumers.stopAll();
    await this.relay.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch (error) {
      this.logger.warn(
        `NATS drain failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/**
 * Global: import once in the root module (after DatabaseModule; the platform module does both).
 * Services emit through `tx.emit(...)` of a unit of work and consume by registering with
 * EventConsumerRegistry.
 */
@Module({})
export class EventsModule {
  static forRoot(options: EventsModuleOptions): DynamicModule {
    return EventsModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: EventsModuleAsyncOptions): DynamicModule {
    return {
      module: EventsModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: EVENTS_MODULE_OPTIONS,
          inject: options.inject ?? [],
          useFactory: (...args: unknown[]) => options.useFactory(...(args as never[])),
        },
        {
          provide: NATS_CONNECTION,
          inject: [EVENTS_MODULE_OPTIONS],
          useFactory: connectAndDeclare,
        },
        {
          provide: OutboxPublisher,
          inject: [EVENTS_MODULE_OPTIONS],
          useFactory: (o: EventsModuleOptions) => new OutboxPublisher(o.source, o.relay?.channel),
        },
        {
          provide: OutboxRelay,
          inject: [getDataSourceToken(), NATS_CONNECTION, EVENTS_MODULE_OPTIONS],
          useFactory: (dataSource: DataSource, nc: NatsConnection, o: EventsModuleOptions) =>
            new OutboxRelay(dataSource, nc.jetstream(), {
              // Failures count against a row only while its stream answers (a JetStream round
              // trip to the stream's leader, not a core NATS ping, which succeeds while JetStream
              // or the stream has no leader).
              // A stream of its own found missing is declared again (JetStream's state lost).
              transportCheck: (subject) =>
                jetStreamAccepts(nc, subject, undefined, {
                  streams: o.owns,
                  redeclare: async (missing) => {
                    const jsm = await nc.jetstreamManager();
                    await ensureOwnedStreams(jsm, missing, o.streamOptions);
                  },
                }),
              ...o.relay,
            }),
        },
        {
          provide: EventConsumerRegistry,
          inject: [UnitOfWork, NATS_CONNECTION, EVENTS_MODULE_OPTIONS],
          useFactory: (uow: UnitOfWork, nc: NatsConnection, o: EventsModuleOptions) =>
            new EventConsumerRegistry(uow, nc, o.consumerBackoff, o.streamOptions),
        },
        EventsLifecycle,
      ],
      exports: [NATS_CONNECTION, OutboxPublisher, OutboxRelay, EventConsumerRegistry],
    };
  }
}
