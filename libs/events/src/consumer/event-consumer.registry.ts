import { DataSource } from 'typeorm';
import { NatsConnection } from 'nats';
import { ConsumerDefinition, EventConsumer } from './event.consumer';

/**
 * Where a service registers its consumers, typically from a provider's onModuleInit. Consumers start
 * on application bootstrap (after every module is initialised) and stop before shutdown.
 */
export class EventConsumerRegistry {
  private readonly consumers = new Map<string, EventConsumer>();
  private started = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nc: NatsConnection,
  ) {}

  async register(definition: ConsumerDefinition): Promise<EventConsumer> {
    if (this.consumers.has(definition.name))
      throw new Error(`consumer ${definition.name} is registered twice`);
    const consumer = new EventConsumer(this.dataSource, this.nc, definition);
    this.consumers.set(definition.name, consumer);
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
