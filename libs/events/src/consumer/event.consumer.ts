import { Logger } from '@nestjs/common';
import { eventsConsumed } from '@cinode/telemetry';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import {
  AckPolicy,
  ConsumerConfig,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamManager,
  JsMsg,
  NatsConnection,
  headers,
  nanos,
} from 'nats';
import { DataSource, EntityManager } from 'typeorm';
import { BackoffPolicy, DEFAULT_CONSUMER_BACKOFF, computeBackoff } from '../backoff';
import { EventEnvelope, decodeEnvelope } from '../envelope';
import { natsHeadersGetter } from '../nats-headers';
import { deadLetterSubject, isConsumerNotFound } from '../streams';

export interface EventHandlerContext {
  /** The transaction that also records the event as processed: make the state change through it. */
  manager: EntityManager;
  /** 1 on first delivery. */
  deliveryCount: number;
  subject: string;
  streamSequence: number;
}

export type EventHandler = (
  envelope: EventEnvelope<unknown>,
  context: EventHandlerContext,
) => Promise<void>;

export interface ConsumerDefinition {
  /** Durable consumer name: short, no dots; also the key in processed_event. */
  name: string;
  stream: string;
  /** One subject filter (nats-server 2.9 supports one per consumer), e.g. `cinode.resource.pool.>`. */
  filterSubject?: string;
  handle: EventHandler;
  /** Deliveries before a failing message is parked on the dead-letter subject (default 5). */
  maxDeliver?: number;
  /** Nak delay growing with the delivery count. */
  backoff?: BackoffPolicy;
  /** Time the server waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  /** Messages pulled ahead of processing (default 10). */
  prefetch?: number;
  /** Default `cinode.dlq.<name>`. */
  deadLetterSubject?: string;
  /** Where a new durable starts (default all: nothing in the stream is skipped). */
  deliverPolicy?: 'all' | 'new';
}

export type ConsumeResult = 'processed' | 'duplicate' | 'retried' | 'dead_lettered';

const NAME = /^[A-Za-z0-9_-]+$/;
const tracer = trace.getTracer('@cinode/events');

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Header values must be one line; keep them short too. */
function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

export function consumerConfig(definition: ConsumerDefinition): Partial<ConsumerConfig> {
  return {
    durable_name: definition.name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(definition.ackWaitMs ?? 30_000),
    // Parking is done by this code at maxDeliver; the server must not give up first and drop the
    // message silently, so its own limit stays off.
    max_deliver: -1,
    deliver_policy: definition.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    filter_subject: definition.filterSubject,
    max_ack_pending: 1_000,
  };
}

/** Creates the durable consumer, or updates the settings an existing one may change. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  definition: ConsumerDefinition,
): Promise<void> {
  const config = consumerConfig(definition);
  try {
    await jsm.consumers.info(definition.stream, definition.name);
  } catch (error) {
    if (!isConsumerNotFound(error)) throw error;
    await jsm.consumers.add(definition.stream, config);
    return;
  }
  await jsm.consumers.update(definition.stream, definition.name, {
    ack_wait: config.ack_wait,
    max_deliver: config.max_deliver,
    max_ack_pending: config.max_ack_pending,
  });
}

/**
 * A durable JetStream pull consumer with explicit acks. Each message is handled in a database
 * transaction that first inserts (consumer, event id) into processed_event: a redelivered event finds
 * its row and is acked without running the handler again. A failing handler rolls back, the message
 * is nak'ed with a growing delay, and at `maxDeliver` it is copied (with the error in headers) to the
 * dead-letter subject and terminated, so one poison message cannot block the ones after it.
 */
export class EventConsumer {
  private readonly logger: Logger;
  private readonly maxDeliver: number;
  private readonly backoff: BackoffPolicy;
  private readonly dlqSubject: string;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nc: NatsConnection,
    readonly definition: ConsumerDefinition,
  ) {
    if (!NAME.test(definition.name))
      throw new Error(`consumer name "${definition.name}" must contain no dots or spaces`);
    this.logger = new Logger(`EventConsumer:${definition.name}`);
    this.maxDeliver = definition.maxDeliver ?? 5;
    this.backoff = definition.backoff ?? DEFAULT_CONSUMER_BACKOFF;
    this.dlqSubject = definition.deadLetterSubject ?? deadLetterSubject(definition.name);
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    await ensureConsumer(await this.nc.jetstreamManager(), this.definition);
    const consumer = await this.nc
      .jetstream()
      .consumers.get(this.definition.stream, this.definition.name);
    const messages = await consumer.consume({ max_messages: this.definition.prefetch ?? 10 });
    this.messages = messages;
    this.loop = this.consumeAll(messages);
  }

  /** Stops pulling, lets the message in hand finish (ack or nak), and hands back anything prefetched. */
  async stop(): Promise<void> {
    this.stopping = true;
    const loop = this.loop;
    if (!loop) return;
    await this.messages?.close();
    await loop;
    this.loop = undefined;
    this.messages = undefined;
  }

  private async consumeAll(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const message of messages) {
        if (this.stopping) {
          // Prefetched but not started: give it straight back so another replica gets it now.
          message.nak();
          continue;
        }
        await this.process(message);
      }
    } catch (error) {
      this.logger.error(`consumer loop ended: ${errorMessage(error)}`);
    }
  }

  /** Handles one message and settles it; never throws. */
  async process(message: JsMsg): Promise<ConsumeResult> {
    const parent = propagation.extract(ROOT_CONTEXT, message.headers, natsHeadersGetter);
    return tracer.startActiveSpan(
      `${message.subject} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': message.subject },
      },
      parent,
      async (span) => {
        try {
          const result = await this.settle(message);
          eventsConsumed.inc({ consumer: this.definition.name, subject: message.subject, result });
          return result;
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
          this.logger.error(`could not settle message ${message.seq}: ${errorMessage(error)}`);
          return 'retried';
        } finally {
          span.end();
        }
      },
    );
  }

  private async settle(message: JsMsg): Promise<ConsumeResult> {
    const deliveryCount = message.info.deliveryCount;
    let envelope: EventEnvelope<unknown>;
    try {
      envelope = decodeEnvelope(message.data);
    } catch (error) {
      // Retrying cannot fix a malformed message.
      return this.deadLetter(message, error);
    }
    try {
      const outcome = await this.dataSource.transaction(async (manager): Promise<ConsumeResult> => {
        const inserted = await manager.query<unknown[]>(
          `INSERT INTO processed_event (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
          [this.definition.name, envelope.id],
        );
        if (inserted.length === 0) return 'duplicate';
        await this.definition.handle(envelope, {
          manager,
          deliveryCount,
          subject: message.subject,
          streamSequence: message.info.streamSequence,
        });
        return 'processed';
      });
      message.ack();
      return outcome;
    } catch (error) {
      if (deliveryCount >= this.maxDeliver) return this.deadLetter(message, error);
      const delay = computeBackoff(deliveryCount, this.backoff);
      this.logger.warn(
        `event ${envelope.id} (${envelope.type}) failed on delivery ${deliveryCount}/${this.maxDeliver}, retrying in ${delay} ms: ${errorMessage(error)}`,
      );
      message.nak(delay);
      return 'retried';
    }
  }

  private async deadLetter(message: JsMsg, error: unknown): Promise<ConsumeResult> {
    const h = headers();
    for (const key of message.headers?.keys() ?? []) {
      if (key.toLowerCase() === 'nats-msg-id') continue;
      for (const value of message.headers?.values(key) ?? []) h.append(key, value);
    }
    h.set('Cinode-Dlq-Consumer', this.definition.name);
    h.set('Cinode-Dlq-Stream', message.info.stream);
    h.set('Cinode-Dlq-Subject', message.subject);
    h.set('Cinode-Dlq-Stream-Sequence', String(message.info.streamSequence));
    h.set('Cinode-Dlq-Deliveries', String(message.info.deliveryCount));
    h.set('Cinode-Dlq-Error', headerValue(errorMessage(error)));
    h.set('Cinode-Dlq-Time', new Date().toISOString());
    try {
      await this.nc.jetstream().publish(this.dlqSubject, message.data, {
        headers: h,
        // A retried parking of the same stream message is stored once.
        msgID: `${this.definition.name}:${message.info.stream}:${message.info.streamSequence}`,
      });
    } catch (publishError) {
      this.logger.error(
        `could not park message ${message.seq} on ${this.dlqSubject}: ${errorMessage(publishError)}`,
      );
      message.nak(computeBackoff(message.info.deliveryCount, this.backoff));
      return 'retried';
    }
    this.logger.error(
      `parked message ${message.info.streamSequence} (${message.subject}) on ${this.dlqSubject} after ${message.info.deliveryCount} deliveries: ${errorMessage(error)}`,
    );
    message.term();
    return 'dead_lettered';
  }
}
