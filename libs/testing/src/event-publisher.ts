import { randomUUID } from 'node:crypto';
import { eventOf, type EventContract } from '@cinode/contracts';
import { createEnvelope, encodeEnvelope, type EventEnvelope } from '@cinode/events';
import { connect, type NatsConnection } from 'nats';

/**
 * Publishes other services' events straight onto JetStream, as those services would, so a test can
 * drive one service's consumers without starting its peers.
 */
export class EventPublisher {
  private constructor(private readonly nc: NatsConnection) {}

  static async connect(natsUrl: string): Promise<EventPublisher> {
    return new EventPublisher(await connect({ servers: natsUrl }));
  }

  async publish<T>(source: string, contract: EventContract<T>, data: T): Promise<EventEnvelope<T>> {
    const envelope = createEnvelope(source, eventOf(contract, data));
    await this.republish(envelope);
    return envelope;
  }

  /**
   * Publishes an envelope again under another message id, as a dead-letter replay does: JetStream
   * stores it a second time, and the consumer must recognise the event id.
   */
  async republish(envelope: EventEnvelope<unknown>, msgID: string = envelope.id): Promise<void> {
    await this.nc.jetstream().publish(envelope.type, encodeEnvelope(envelope), { msgID });
  }

  async redeliver(envelope: EventEnvelope<unknown>): Promise<void> {
    await this.republish(envelope, randomUUID());
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
