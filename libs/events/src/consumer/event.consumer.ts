import { Logger } from '@nestjs/common';
import {
  ContractViolationError,
  MalformedEventError,
  parseEvent,
  type EventContract,
  type EventSource,
  type ReceivedEvent,
} from '@cinode/contracts';
import { DomainError, type ErrorKind } from '@cinode/common';
import type { Tx, UnitOfWork } from '@cinode/database';
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
  nanos,
} from 'nats';
import { BackoffPolicy, DEFAULT_CONSUMER_BACKOFF, computeBackoff } from '../backoff';
import { publishDeadLetter, type DeadLetterKind } from '../dead-letters';
import { EventEnvelope, InvalidEnvelopeError, decodeEnvelope } from '../envelope';
import { natsHeadersGetter } from '../nats-headers';
import { ensureConsumedStreams, isConsumerNotFound } from '../streams';

export interface EventHandlerContext {
  /** The transaction that also records the event as processed: make the state change through it. */
  tx: Tx;
  /** The envelope around the event: id, producer, time (for logs; order by the data's version). */
  envelope: EventEnvelope<unknown>;
  /** 1 on first delivery. */
  deliveryCount: number;
  subject: string;
  streamSequence: number;
  /**
   * Parks a copy of this message on the consumer's dead-letter subject for a person to look at,
   * e.g. after recording that a downstream system refused it for good. The handler then returns
   * normally: its transaction commits and the message is acked.
   */
  deadLetter(reason: string): Promise<void>;
}

export type EventHandler<E extends EventContract> = (
  event: ReceivedEvent<E>,
  context: EventHandlerContext,
) => Promise<void>;

export interface ConsumerDefinition<E extends EventContract = EventContract> {
  /** Durable consumer name: short, no dots; also the key in processed_event. */
  name: string;
  /** The stream, subject filter and contracts of the events this consumer handles. */
  source: EventSource<E>;
  handle: EventHandler<E>;
  /** Nak delay growing with the delivery count, capped; there is no delivery limit. */
  backoff?: BackoffPolicy;
  /** Time the server waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  /** Messages pulled ahead of processing (default 10). */
  prefetch?: number;
  /** Where a new durable starts (default all: nothing in the stream is skipped). */
  deliverPolicy?: 'all' | 'new';
}

/**
 * The handler's verdict that an event can never be handled (a reference to something that cannot
 * exist, a contradiction in the data): the message is dead-lettered at once instead of retried.
 */
export class PermanentEventError extends Error {
  override readonly name = 'PermanentEventError';
}

export type ConsumeResult = 'processed' | 'duplicate' | 'ignored' | 'retried' | 'dead_lettered';

const NAME = /^[A-Za-z0-9_-]+$/;
const tracer = trace.getTracer('@cinode/events');

function ageOf(envelope: EventEnvelope<unknown>): string {
  const minutes = Math.round((Date.now() - Date.parse(envelope.time)) / 60_000);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Domain errors that say the service is busy or away, not that the event is wrong. */
const TRANSIENT_KINDS = new Set<ErrorKind>([
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
  'CANCELLED',
]);
/** Postgres refusing the data itself (SQLSTATE class 22, not-null and check violations). */
const PERMANENT_SQLSTATE = /^(22...|23502|23514)$/;

/**
 * Whether retrying cannot help: the message is not an event, its data breaks the contract, the
 * handler said so (PermanentEventError), the handler's domain rules refuse it (a DomainError other
 * than busy/away), or Postgres refuses the data. Everything else — above all a database or peer
 * that is down — is transient and retried without limit.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (
    error instanceof MalformedEventError ||
    error instanceof ContractViolationError ||
    error instanceof InvalidEnvelopeError ||
    error instanceof PermanentEventError
  )
    return true;
  if (error instanceof DomainError) return !TRANSIENT_KINDS.has(error.kind);
  const code = sqlState(error);
  return code !== undefined && PERMANENT_SQLSTATE.test(code);
}

function sqlState(error: unknown): string | undefined {
  const source = (error as { driverError?: unknown } | null)?.driverError ?? error;
  const code = (source as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** 10, 100, 1000, ...: when a message still failing is worth an error line (and an alert). */
function isMilestone(deliveryCount: number): boolean {
  return deliveryCount >= 10 && /^10+$/.test(String(deliveryCount));
}

export function consumerConfig(definition: ConsumerDefinition): Partial<ConsumerConfig> {
  return {
    durable_name: definition.name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(definition.ackWaitMs ?? 30_000),
    // Retries are unbounded on purpose: a transient failure (the database down for minutes) must
    // lose nothing. Permanent failures are dead-lettered by this code, never by the server.
    max_deliver: -1,
    deliver_policy: definition.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    filter_subject: definition.source.filterSubject,
    max_ack_pending: 1_000,
  };
}

/** Creates the durable consumer, or updates the settings an existing one may change. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  definition: ConsumerDefinition,
): Promise<void> {
  const config = consumerConfig(definition);
  const stream = definition.source.stream.name;
  try {
    await jsm.consumers.info(stream, definition.name);
  } catch (error) {
    if (!isConsumerNotFound(error)) throw error;
    await jsm.consumers.add(stream, config);
    return;
  }
  await jsm.consumers.update(stream, definition.name, {
    ack_wait: config.ack_wait,
    max_deliver: config.max_deliver,
    max_ack_pending: config.max_ack_pending,
  });
}

/**
 * A durable JetStream pull consumer with explicit acks, typed by event contracts. Each message is
 * handled in one unit of work that first inserts (consumer, event id) into processed_event: a
 * redelivered event finds its row and is acked without running the handler again.
 *
 * Failures are of two kinds. A permanent one — the body is no envelope, the data breaks its
 * contract, or the handler throws PermanentEventError — goes to the dead-letter subject on that
 * very delivery (`npm run dlq` lists and replays them). Anything else is taken as transient (the
 * database or a peer is down): the transaction rolls back and the message is nak'ed with a growing,
 * capped delay, with no limit on deliveries, so an outage of any length loses nothing.
 */
export class EventConsumer<E extends EventContract = EventContract> {
  private readonly logger: Logger;
  private readonly backoff: BackoffPolicy;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly nc: NatsConnection,
    readonly definition: ConsumerDefinition<E>,
  ) {
    if (!NAME.test(definition.name))
      throw new Error(`consumer name "${definition.name}" must contain no dots or spaces`);
    this.logger = new Logger(`EventConsumer:${definition.name}`);
    this.backoff = definition.backoff ?? DEFAULT_CONSUMER_BACKOFF;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    const definition = this.definition as unknown as ConsumerDefinition;
    const jsm = await this.nc.jetstreamManager();
    // The source may be another service's stream: create it from its contract if that service has
    // not started yet (never changing it), so services start in any order.
    await ensureConsumedStreams(jsm, [definition.source.stream]);
    await ensureConsumer(jsm, definition);
    const consumer = await this.nc
      .jetstream()
      .consumers.get(definition.source.stream.name, definition.name);
    const messages = await consumer.consume({ max_messages: definition.prefetch ?? 10 });
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
    let event: ReceivedEvent<E> | undefined;
    try {
      envelope = decodeEnvelope(message.data);
      event = parseEvent(this.definition.source, envelope);
    } catch (error) {
      return this.deadLetter(message, error);
    }
    if (!event) {
      // A type this consumer does not know (a newer producer's addition): not for it.
      this.logger.debug?.(
        `ignored ${envelope.type} ${envelope.id}: not a type this consumer handles`,
      );
      message.ack();
      return 'ignored';
    }
    const received = event;
    try {
      const outcome = await this.uow.run(async (tx): Promise<ConsumeResult> => {
        const inserted = await tx.manager.query<unknown[]>(
          `INSERT INTO processed_event (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
          [this.definition.name, envelope.id],
        );
        if (inserted.length === 0) return 'duplicate';
        let parked = false;
        await this.definition.handle(received, {
          tx,
          envelope,
          deliveryCount,
          subject: message.subject,
          streamSequence: message.info.streamSequence,
          deadLetter: async (reason) => {
            await this.park(message, reason, 'verdict');
            parked = true;
          },
        });
        return parked ? 'dead_lettered' : 'processed';
      });
      message.ack();
      return outcome;
    } catch (error) {
      if (isPermanentFailure(error)) return this.deadLetter(message, error);
      const delay = computeBackoff(deliveryCount, this.backoff);
      const line = `event ${envelope.id} (${envelope.type}) failed on delivery ${deliveryCount}, retrying in ${delay} ms: ${errorMessage(error)}`;
      // Still failing after many tries: the stream drops messages older than its max age, so a
      // person must look before then.
      if (isMilestone(deliveryCount))
        this.logger.error(`${line} (the event is ${ageOf(envelope)} old)`);
      else this.logger.warn(line);
      message.nak(delay);
      return 'retried';
    }
  }

  private park(message: JsMsg, reason: string, kind: DeadLetterKind): Promise<void> {
    return publishDeadLetter(
      this.nc.jetstream(),
      {
        consumer: this.definition.name,
        stream: message.info.stream,
        subject: message.subject,
        streamSequence: message.info.streamSequence,
        deliveries: message.info.deliveryCount,
        data: message.data,
        headers: message.headers,
      },
      reason,
      kind,
    );
  }

  private async deadLetter(message: JsMsg, error: unknown): Promise<ConsumeResult> {
    try {
      await this.park(message, errorMessage(error), 'failure');
    } catch (publishError) {
      this.logger.error(
        `could not park message ${message.seq}: ${errorMessage(publishError)}; retrying`,
      );
      message.nak(computeBackoff(message.info.deliveryCount, this.backoff));
      return 'retried';
    }
    this.logger.error(
      `dead-lettered message ${message.info.streamSequence} (${message.subject}) on delivery ${message.info.deliveryCount}: ${errorMessage(error)}`,
    );
    message.term();
    return 'dead_lettered';
  }
}
