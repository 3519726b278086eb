import type { EventContract } from '@cinode/contracts';
import type { UnitOfWork } from '@cinode/database';
import type { NatsConnection } from 'nats';
import type { BackoffPolicy } from '../backoff';
import type { StreamOptions } from '../streams';
import { ConsumerDefinition, EventConsumer } from './event.consumer';

/**
 * Where a service registers its consumers, typically from a provider's onModuleInit. Consumers start
 * on application bootstrap (after every module is initialised) and stop before shutdown.
 */
export class EventConsumerRegistry {
  private readonly consumers = new Map<string, EventConsumer>();
  private started = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly nc: NatsConnection,
    /** The service's retry policy for consumers that set none. */
    private readonly defaultBackoff?: BackoffPolicy,
    /** How the streams its consumers create are made (EVENT_STREAM_REPLICAS). */
    private readonly streamOptions: StreamOptions = {},
  ) {}

  async register<E extends EventContract>(
    definition: ConsumerDefinition<E>,
  ): Promise<EventConsumer<E>> {
    if (this.consumers.has(definition.name))
      throw new Error(`consumer ${definition.name} is registered twice`);
    const consumer = new EventConsumer<E>(
      this.uow,
      this.nc,
      { ...definition, backoff: definition.backoff ?? this.defaultBackoff },
      this.streamOptions,
    );
    this.consumers.set(definition.name, consumer as unknown as EventConsumer);
    if (this.started) await consumer.start();
    return consumer;
  }

  get(name: string): EventConsumer | undefined {
    return this.consumers.get(name);
  }

  async startAll(): Promise<void> {
    this.started = true;
    for (const consumer of this.consumers.values()) await consumer.start();
  }

  async stopAll(): Promise<void> {
    this.started = false;
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.stop()));
  }
}
