import { Logger } from '@nestjs/common';
import { eventsPublished, outboxParked, outboxPending } from '@cinode/telemetry';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import { JetStreamClient, NatsConnection, PubAck } from 'nats';
import { openSideConnection } from '@cinode/database';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { BackoffPolicy, DEFAULT_RELAY_BACKOFF, computeBackoff } from '../backoff';
import { EventEnvelope, TraceContext, encodeEnvelope } from '../envelope';
import { envelopeHeaders } from '../nats-headers';
import { DEFAULT_OUTBOX_CHANNEL } from './outbox.publisher';

export interface OutboxRelayOptions {
  /** Rows claimed per round (default 100). */
  batchSize?: number;
  /** Longest sleep when idle; NOTIFY normally wakes the relay much sooner (default 1 s). */
  pollIntervalMs?: number;
  /** LISTEN for the publisher's NOTIFY (default true). */
  listen?: boolean;
  channel?: string;
  /** Delay between rounds while publishing fails, e.g. NATS is down. */
  backoff?: BackoffPolicy;
  publishTimeoutMs?: number;
  /** Published rows older than this are deleted (default 7 days; 0 keeps them). */
  retentionMs?: number;
  /**
   * Failed attempts of one row, made while NATS otherwise works, before the row is parked
   * (default 20). Attempts during an outage (nothing publishes) do not count.
   */
  maxAttempts?: number;
  /**
   * Whether JetStream would store an event of this subject now, asked for each subject whose rows
   * failed in a round: true charges the failure to the row, false (or a throw) is an outage that
   * charges nothing (default: assume an outage).
   */
  transportCheck?: (subject: string) => Promise<boolean>;
}

export interface RelayRound {
  claimed: number;
  published: number;
  duplicates: number;
  failed: number;
  /** Rows set aside this round after their last allowed attempt. */
  parked: number;
}

export interface OutboxRow {
  id: string;
  type: string;
  source: string;
  schema_version: number;
  occurred_at: Date;
  data: unknown;
  trace_context: TraceContext | null;
  attempts?: number;
}

export function envelopeFromRow(row: OutboxRow): EventEnvelope {
  const envelope: EventEnvelope = {
    id: row.id,
    type: row.type,
    time: new Date(row.occurred_at).toISOString(),
    source: row.source,
    schemaVersion: row.schema_version,
    data: row.data,
  };
  if (row.trace_context) envelope.traceContext = row.trace_context;
  return envelope;
}

const tracer = trace.getTracer('@cinode/events');

/**
 * Whether JetStream would store an event of `subject` now: its API answers and so does the leader
 * of the stream that takes the subject. A subject no stream takes is the row's fault (true); no
 * answer, or an error, is an outage. A core NATS ping is not enough: it succeeds while JetStream,
 * or one stream (lost quorum, a leader election), cannot store anything.
 */
export async function jetStreamAccepts(
  nc: NatsConnection,
  subject: string,
  timeoutMs = 2_000,
): Promise<boolean> {
  const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
  let stream: string;
  try {
    stream = await jsm.streams.find(subject);
  } catch (error) {
    if (error instanceof Error && error.message === 'no stream matches subject') return true;
    throw error;
  }
  await jsm.streams.info(stream);
  return true;
}

/**
 * Publishes one envelope with Nats-Msg-Id = event id, so JetStream drops a re-publish within the
 * duplicate window. The publish is a producer span, child of the context the event was enqueued
 * in (the call that made the change), and the message carries the publish span's context, so a
 * consumer's span hangs below it in the same trace.
 */
export async function publishEnvelope(
  js: JetStreamClient,
  envelope: EventEnvelope,
  timeoutMs = 5_000,
): Promise<PubAck> {
  const enqueuedIn = propagation.extract(ROOT_CONTEXT, { ...envelope.traceContext });
  return tracer.startActiveSpan(
    `${envelope.type} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': envelope.type,
        'messaging.message.id': envelope.id,
      },
    },
    enqueuedIn,
    async (span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(enqueuedIn, span), carrier);
      const published: EventEnvelope = { ...envelope };
      if (carrier.traceparent) {
        published.traceContext = { traceparent: carrier.traceparent };
        if (carrier.tracestate) published.traceContext.tracestate = carrier.tracestate;
      }
      try {
        return await js.publish(envelope.type, encodeEnvelope(envelope), {
          msgID: envelope.id,
          headers: envelopeHeaders(published),
          timeout: timeoutMs,
        });
      } catch (error) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

const CLAIM = `SELECT id, type, source, schema_version, occurred_at, data, trace_context, attempts
  FROM outbox_event
  WHERE published_at IS NULL AND parked_at IS NULL
    AND (next_attempt_at IS NULL OR next_attempt_at <= now())
  ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`;

/**
 * A failed row. Counted ($2 = 1: NATS works, the row is the problem): its own next attempt later,
 * or parked after its last allowed one. Not counted (an outage): the error only; the relay as a
 * whole backs off.
 */
const RECORD_FAILURE = `UPDATE outbox_event
  SET attempts = attempts + $2, last_error = $3,
      next_attempt_at = CASE WHEN $2 > 0 THEN now() + make_interval(secs => $4) END,
      parked_at = CASE WHEN $2 > 0 AND attempts + $2 >= $5 THEN now() END
  WHERE id = $1
  RETURNING parked_at IS NOT NULL AS parked`;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Moves committed outbox rows to JetStream. Several replicas may run it: each claims rows with
 * FOR UPDATE SKIP LOCKED, so a row is in flight in one relay at a time, and if a relay dies after
 * publishing but before marking, the row is published again and JetStream's de-duplication by
 * Nats-Msg-Id keeps the stream to one copy. Order is by creation within one relay's batch; across
 * replicas events may interleave, so consumers must not rely on global order.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly channel: string;
  private readonly backoff: BackoffPolicy;
  private readonly publishTimeoutMs: number;
  private readonly retentionMs: number;
  private readonly maxAttempts: number;
  private running?: Promise<void>;
  private stopping = false;
  private notified = false;
  private wake?: () => void;
  private listener?: Client;
  private lastPrune = 0;
  private notifyWaiter?: () => void;
  private readonly totals = { rounds: 0, published: 0, duplicates: 0, failed: 0, parked: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly js: JetStreamClient,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.channel = options.channel ?? DEFAULT_OUTBOX_CHANNEL;
    this.backoff = options.backoff ?? DEFAULT_RELAY_BACKOFF;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
    this.maxAttempts = options.maxAttempts ?? 20;
  }

  /** Counts since construction; `duplicates` are re-publishes JetStream recognised and dropped. */
  get stats(): Readonly<{
    rounds: number;
    published: number;
    duplicates: number;
    failed: number;
    parked: number;
  }> {
    return { ...this.totals };
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  /** Finishes the round in progress (its publishes and marks), then closes the LISTEN connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await this.closeListener();
  }

  /**
   * One claim-publish-mark round in one transaction. A row that fails waits on its own growing
   * delay (the others go on); its failures count only while NATS otherwise works — some row of the
   * round published, or the transport check answers — and at `maxAttempts` it is parked.
   */
  async relayOnce(): Promise<RelayRound> {
    const round = await this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<OutboxRow[]>(CLAIM, [this.batchSize]);
      const result: RelayRound = {
        claimed: rows.length,
        published: 0,
        duplicates: 0,
        failed: 0,
        parked: 0,
      };
      if (rows.length === 0) return result;
      // Issued together on one connection, so JetStream stores them in claim order.
      const acks = await Promise.allSettled(
        rows.map((row) => publishEnvelope(this.js, envelopeFromRow(row), this.publishTimeoutMs)),
      );
      const done: string[] = [];
      const failed: { row: OutboxRow; reason: unknown }[] = [];
      for (const [i, ack] of acks.entries()) {
        const row = rows[i];
        if (ack.status === 'fulfilled') {
          done.push(row.id);
          if (ack.value.duplicate) result.duplicates++;
          else result.published++;
          eventsPublished.inc({
            subject: row.type,
            result: ack.value.duplicate ? 'duplicate' : 'published',
          });
        } else {
          failed.push({ row, reason: ack.reason });
        }
      }
      if (failed.length > 0) {
        // Asked per subject, not inferred from other rows' success: one stream can be without a
        // leader while another takes events, and then its rows are not at fault.
        const transportBySubject = new Map<string, Promise<boolean>>();
        const transportWorks = (subject: string) => {
          let answer = transportBySubject.get(subject);
          if (!answer) transportBySubject.set(subject, (answer = this.transportWorks(subject)));
          return answer;
        };
        for (const { row, reason } of failed) {
          result.failed++;
          eventsPublished.inc({ subject: row.type, result: 'failed' });
          const counted = (await transportWorks(row.type)) ? 1 : 0;
          const attempts = (row.attempts ?? 0) + counted;
          // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
          const [[{ parked }]] = await manager.query<[{ parked: boolean }[], number]>(
            RECORD_FAILURE,
            [
              row.id,
              counted,
              errorMessage(reason).slice(0, 2000),
              computeBackoff(Math.max(1, attempts), this.backoff) / 1000,
              this.maxAttempts,
            ],
          );
          if (parked) {
            result.parked++;
            this.logger.error(
              `parked outbox event ${row.id} (${row.type}) after ${attempts} failed attempts: ${errorMessage(reason)}; requeue it with npm run outbox -- requeue ${row.id}`,
            );
          }
        }
      }
      if (done.length > 0) {
        await manager.query(
          `UPDATE outbox_event SET published_at = now(), attempts = attempts + 1, last_error = NULL,
             next_attempt_at = NULL WHERE id = ANY($1::uuid[])`,
          [done],
        );
      }
      return result;
    });
    this.totals.rounds++;
    this.totals.published += round.published;
    this.totals.duplicates += round.duplicates;
    this.totals.failed += round.failed;
    this.totals.parked += round.parked;
    await this.refreshPending();
    return round;
  }

  /** Rows waiting to be published (parked ones apart); also sets the outbox gauges. */
  async refreshPending(): Promise<number> {
    const [{ pending, parked }] = await this.dataSource.query<
      { pending: number; parked: number }[]
    >(
      `SELECT count(*) FILTER (WHERE parked_at IS NULL)::int AS pending,
              count(*) FILTER (WHERE parked_at IS NOT NULL)::int AS parked
         FROM outbox_event WHERE published_at IS NULL`,
    );
    outboxPending.set(pending);
    outboxParked.set(parked);
    return pending;
  }

  private async transportWorks(subject: string): Promise<boolean> {
    if (!this.options.transportCheck) return false;
    try {
      return await this.options.transportCheck(subject);
    } catch {
      return false;
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let busy = false;
      try {
        if (this.options.listen !== false && !this.listener) await this.openListener();
        this.notified = false;
        const round = await this.relayOnce();
        if (round.failed > 0 && round.failed === round.claimed) {
          // Nothing went out: NATS is away. The relay backs off as a whole (each row waits too).
          failures++;
          this.logger.warn(`${round.failed} event(s) could not be published; retrying`);
        } else {
          // A few failing rows wait on their own delays and do not slow the rest.
          failures = 0;
          busy = round.claimed === this.batchSize;
        }
        await this.prune();
      } catch (error) {
        failures++;
        this.logger.warn(`outbox round failed: ${errorMessage(error)}`);
      }
      if (this.stopping) break;
      if (failures > 0) await this.sleep(computeBackoff(failures, this.backoff), false);
      else if (!busy) await this.sleep(this.pollIntervalMs, true);
    }
  }

  /** Waits for the delay, a stop, or (if allowed) a NOTIFY, whichever comes first. */
  private async sleep(ms: number, wakeOnNotify: boolean): Promise<void> {
    if (wakeOnNotify && this.notified) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      if (wakeOnNotify) this.notifyWaiter = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
    this.wake = undefined;
    this.notifyWaiter = undefined;
  }

  private async openListener(): Promise<void> {
    const client = openSideConnection(this.dataSource, 'outbox-relay-listen');
    client.on('notification', () => {
      this.notified = true;
      this.notifyWaiter?.();
    });
    client.on('error', (error) => {
      this.logger.warn(
        `outbox LISTEN connection lost: ${error.message}; falling back to polling until it reconnects`,
      );
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`);
      this.listener = client;
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
  }

  private async closeListener(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    if (client) await client.end();
  }

  /** Deletes long-published rows at most once an hour; the consumers' side keeps its own history. */
  private async prune(): Promise<void> {
    if (this.retentionMs <= 0 || Date.now() - this.lastPrune < 3_600_000) return;
    this.lastPrune = Date.now();
    await this.dataSource.query(
      `DELETE FROM outbox_event WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)`,
      [this.retentionMs / 1000],
    );
  }
}
