import { Logger } from '@nestjs/common';
import {
  parseEvent,
  type EventContract,
  type EventSource,
  type ReceivedEvent,
} from '@cinode/contracts';
import { WakeableDelay } from '@cinode/common';
import type { Tx, UnitOfWork } from '@cinode/database';
import { consumerRestarts, eventsConsumed } from '@cinode/telemetry';
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
import { EventEnvelope, decodeEnvelope } from '../envelope';
import { natsHeadersGetter } from '../nats-headers';
import {
  DEFAULT_STREAM_MAX_AGE_MS,
  ensureConsumedStreams,
  isConsumerNotFound,
  type StreamOptions,
} from '../streams';
import { classifyFailure } from './failure-classes';

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
  /** Nak delay growing with the delivery count, capped. */
  backoff?: BackoffPolicy;
  /**
   * Deliveries an `unexplained` failure (see FailureClass) gets before it is dead-lettered
   * (default 30: about half an hour with the default backoff). Outages have no limit.
   */
  maxUnexplainedDeliveries?: number;
  /** Time the server waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  /** Messages pulled ahead of processing (default 10). */
  prefetch?: number;
  /** Where a new durable starts (default all: nothing in the stream is skipped). */
  deliverPolicy?: 'all' | 'new';
}

export type ConsumeResult = 'processed' | 'duplicate' | 'ignored' | 'retried' | 'dead_lettered';

const NAME = /^[A-Za-z0-9_-]+$/;
const tracer = trace.getTracer('@cinode/events');

/** Between attempts to declare and pull again after a consumer's pull ended. */
const RESTART_BACKOFF: BackoffPolicy = {
  initialMs: 500,
  maxMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
};
/** A pull that lasted this long before it ended starts the restart delays over. */
const RESTART_RESET_AFTER_MS = 60_000;

/** A failure still retried at this share of the stream's max age is dead-lettered. */
const PARK_AT_SHARE_OF_MAX_AGE = 0.8;

function formatAge(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

function ageOf(envelope: EventEnvelope<unknown>): string {
  return formatAge(Date.now() - Date.parse(envelope.time));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
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
    // No server-side limit: an outage (the database down for minutes) must lose nothing, and what
    // is given up on is dead-lettered by this code, never dropped by the server.
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
 * Failures are classed by classifyFailure. A permanent one (the body is no envelope, the data
 * breaks its contract, the handler throws PermanentEventError or a domain refusal) goes to the
 * dead-letter subject on that very delivery (`npm run dlq` lists and replays them). An outage (the
 * database or a peer down or busy) rolls back and is nak'ed with a growing, capped delay and no
 * delivery limit, so an outage of any length loses nothing. An unexplained failure is retried the
 * same way up to `maxUnexplainedDeliveries`, then dead-lettered; and any failure still retried at
 * 80% of the stream's max age is dead-lettered, so no event ages out of its stream unseen.
 */
export class EventConsumer<E extends EventContract = EventContract> {
  private readonly logger: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly maxUnexplainedDeliveries: number;
  /** Any failure still retried at this age is parked (the stream drops messages at its max age). */
  private readonly parkAfterAgeMs: number;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopping = false;
  /** The wait between restarts, cut short by stop(). */
  private readonly delay = new WakeableDelay();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly nc: NatsConnection,
    readonly definition: ConsumerDefinition<E>,
    /** How a stream it creates is made (EVENT_STREAM_REPLICAS): as the service's own. */
    private readonly streamOptions: StreamOptions = {},
  ) {
    if (!NAME.test(definition.name))
      throw new Error(`consumer name "${definition.name}" must contain no dots or spaces`);
    this.logger = new Logger(`EventConsumer:${definition.name}`);
    this.backoff = definition.backoff ?? DEFAULT_CONSUMER_BACKOFF;
    this.maxUnexplainedDeliveries = definition.maxUnexplainedDeliveries ?? 30;
    const maxAge = definition.source.stream.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS;
    this.parkAfterAgeMs = maxAge > 0 ? maxAge * PARK_AT_SHARE_OF_MAX_AGE : Infinity;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    // At start a failure is the caller's to see (NATS away): it is thrown, as before.
    const messages = await this.open();
    this.loop = this.run(messages);
  }

  /** Stops pulling, lets the message in hand finish (ack or nak), and hands back anything prefetched. */
  async stop(): Promise<void> {
    this.stopping = true;
    const loop = this.loop;
    if (!loop) return;
    this.delay.wake();
    await this.messages?.close();
    await loop;
    this.loop = undefined;
    this.messages = undefined;
  }

  /**
   * Declares the source stream (if missing) and the durable consumer (or its settings), and
   * starts pulling. The pull ends, rather than waits forever, if the stream or the consumer goes
   * away (JetStream's state lost, a stream recreated, a consumer deleted by hand): `run` then
   * declares them again.
   */
  private async open(): Promise<ConsumerMessages> {
    const definition = this.definition as unknown as ConsumerDefinition;
    const jsm = await this.nc.jetstreamManager();
    // The source may be another service's stream: create it from its contract if that service has
    // not started yet (never changing it), so services start in any order.
    // With the service's stream options (replicas): one declared here after JetStream lost its
    // state is as its owner would declare it.
    await ensureConsumedStreams(jsm, [definition.source.stream], this.streamOptions);
    await ensureConsumer(jsm, definition);
    const consumer = await this.nc
      .jetstream()
      .consumers.get(definition.source.stream.name, definition.name);
    const messages = await consumer.consume({
      max_messages: definition.prefetch ?? 10,
      abort_on_missing_resource: true,
    });
    this.messages = messages;
    return messages;
  }

  /**
   * Consumes until stopped. When the pull ends for any other reason, the stream and consumer are
   * declared again and the pull restarted, after growing, capped delays while that fails: a
   * consumer is never left stopped while its service runs.
   */
  private async run(first: ConsumerMessages): Promise<void> {
    let messages: ConsumerMessages | undefined = first;
    let failures = 0;
    for (;;) {
      if (this.stopping) {
        // A pull opened as the consumer was stopped: nobody else iterates it, and nats.js settles
        // its close only once it is iterated.
        if (messages) await this.drain(messages);
        return;
      }
      if (!messages) {
        try {
          messages = await this.open();
          if (!this.stopping) this.logger.log('consumer restarted');
        } catch (error) {
          failures += 1;
          const delay = computeBackoff(failures, RESTART_BACKOFF);
          const line = `consumer could not be restarted (attempt ${failures}), retrying in ${delay} ms: ${errorMessage(error)}`;
          if (isMilestone(failures)) this.logger.error(line);
          else this.logger.warn(line);
          await this.pause(delay);
        }
        continue;
      }
      const pulledSince = Date.now();
      const ended = await this.consumeAll(messages);
      messages = undefined;
      this.messages = undefined;
      if (this.stopping) return;
      // Its stream or durable consumer went away (or the pull failed): declared again below. A
      // pull that worked a while starts the delays over.
      const worked = ended.received || Date.now() - pulledSince > RESTART_RESET_AFTER_MS;
      failures = worked ? 1 : failures + 1;
      const delay = computeBackoff(failures, RESTART_BACKOFF);
      consumerRestarts.inc({ consumer: this.definition.name });
      this.logger.warn(
        `consumer's pull ended (${ended.reason}); declaring its stream and consumer again in ${delay} ms`,
      );
      await this.pause(delay);
    }
  }

  /** Closes a pull nothing iterates any more: what it prefetched is handed back (nak). */
  private async drain(messages: ConsumerMessages): Promise<void> {
    const closing = messages.close();
    await this.consumeAll(messages);
    await closing;
    if (this.messages === messages) this.messages = undefined;
  }

  /** Waits `ms`, or less if the consumer is stopped meanwhile. */
  private pause(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return Promise.resolve();
    return this.delay.wait(ms);
  }

  /** Handles the messages of one pull until it ends; says why and whether any message came. */
  private async consumeAll(
    messages: ConsumerMessages,
  ): Promise<{ reason: string; received: boolean }> {
    let received = false;
    try {
      for await (const message of messages) {
        received = true;
        if (this.stopping) {
          // Prefetched but not started: give it straight back so another replica gets it now.
          message.nak();
          continue;
        }
        await this.process(message);
      }
      return { reason: 'closed', received };
    } catch (error) {
      return { reason: errorMessage(error), received };
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
      const failure = classifyFailure(error);
      if (failure === 'permanent') return this.deadLetter(message, error);
      const ageMs = Date.now() - message.info.timestampNanos / 1e6;
      if (ageMs >= this.parkAfterAgeMs) {
        // The stream would drop it soon: parked, it stays listable and replayable.
        return this.deadLetter(
          message,
          `${errorMessage(error)} (still failing after ${deliveryCount} deliveries over ${formatAge(ageMs)}; parked before the stream's age limit drops it)`,
        );
      }
      if (failure === 'unexplained' && deliveryCount >= this.maxUnexplainedDeliveries) {
        return this.deadLetter(
          message,
          `${errorMessage(error)} (failed ${deliveryCount} times for no reason an outage explains)`,
        );
      }
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

  private async park(message: JsMsg, reason: string, kind: DeadLetterKind): Promise<void> {
    const { duplicate } = await publishDeadLetter(
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
    // Parked before (a retry after a lost ack): the copy there is this message's. Said, so that
    // an operator missing a dead letter sees where it went.
    if (duplicate)
      this.logger.warn(
        `message ${message.info.stream}:${message.info.streamSequence} was parked before; its dead-letter copy is the earlier one`,
      );
  }

  private async deadLetter(message: JsMsg, error: unknown): Promise<ConsumeResult> {
    try {
      await this.park(message, typeof error === 'string' ? error : errorMessage(error), 'failure');
    } catch (publishError) {
      this.logger.error(
        `could not park message ${message.seq}: ${errorMessage(publishError)}; retrying`,
      );
      message.nak(computeBackoff(message.info.deliveryCount, this.backoff));
      return 'retried';
    }
    this.logger.error(
      `dead-lettered message ${message.info.streamSequence} (${message.subject}) on delivery ${message.info.deliveryCount}: ${typeof error === 'string' ? error : errorMessage(error)}`,
    );
    message.term();
    return 'dead_lettered';
  }
}
