import { Logger } from '@nestjs/common';
import { subjectMatches, type StreamContract } from '@cinode/contracts';
import { eventsPublished, outboxParked, outboxPending } from '@cinode/telemetry';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import { JetStreamClient, NatsConnection, PubAck } from 'nats';
import { openSideConnection } from '@cinode/database';
import type { Client } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { BackoffPolicy, DEFAULT_RELAY_BACKOFF, computeBackoff } from '../backoff';
import { EventEnvelope, TraceContext, encodeEnvelope } from '../envelope';
import { envelopeHeaders } from '../nats-headers';
import { DEFAULT_OUTBOX_CHANNEL } from './outbox.publisher';

export interface OutboxRelayOptions {
  /** Rows claimed per round (default 500, at most MAX_RELAY_BATCH_SIZE). */
  batchSize?: number;
  /**
   * Rounds in flight at once (default 4): while one round waits for its acks, the next full round
   * is claimed and published behind it on the same connection, so JetStream still stores events in
   * claim order. Each round in flight holds one database connection until it commits.
   */
  concurrency?: number;
  /**
   * Bytes of event data one round claims at most (its first row whatever its size; default
   * 8 MiB), so a backlog of large events drains in rounds that fit in memory.
   */
  maxRoundBytes?: number;
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
  /** Rows one statement of the prune deletes (default 1,000). */
  pruneBatchSize?: number;
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

export const DEFAULT_RELAY_BATCH_SIZE = 500;
export const DEFAULT_RELAY_CONCURRENCY = 4;
export const DEFAULT_RELAY_ROUND_BYTES = 8 * 1024 * 1024;
/** Bounds of the two settings (OUTBOX_BATCH_SIZE, OUTBOX_CONCURRENCY). */
export const MAX_RELAY_BATCH_SIZE = 10_000;
export const MAX_RELAY_CONCURRENCY = 32;

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

/** A claimed row: its data as the JSON text the publisher stored, never parsed by the relay. */
export interface ClaimedOutboxRow extends Omit<OutboxRow, 'data'> {
  data_json: string;
  /** Due rows the round's byte budget left for the next round (the same on every row). */
  beyond?: number;
}

/**
 * The message body of a claimed row: what encodeEnvelope(envelopeFromRow(row)) writes (the same
 * members in the same order), with the data spliced in as the JSON text the outbox holds instead of
 * parsed and serialised again, which was a large share of the relay's work.
 */
export function encodeClaimedRow(row: ClaimedOutboxRow): Uint8Array {
  // Text whatever the column's type (a schema not migrated yet, or rolled back, still has jsonb,
  // which the driver would hand over parsed): never splice anything else into the body.
  if (typeof row.data_json !== 'string')
    throw new TypeError(`outbox row ${row.id}: its data did not arrive as JSON text`);
  const head = JSON.stringify({
    id: row.id,
    type: row.type,
    time: new Date(row.occurred_at).toISOString(),
    source: row.source,
    schemaVersion: row.schema_version,
  });
  let body = `${head.slice(0, -1)},"data":${row.data_json}`;
  if (row.trace_context) body += `,"traceContext":${JSON.stringify(row.trace_context)}`;
  return Buffer.from(`${body}}`, 'utf8');
}

const tracer = trace.getTracer('@cinode/events');

/**
 * Whether JetStream would store an event of `subject` now: its API answers and so does the leader
 * of the stream that takes the subject. A subject no stream takes is the row's fault (true), unless
 * it is one of the streams the service owns (`owned`), which has gone (JetStream's state lost, the
 * stream deleted): then that is an outage (false), and `redeclare` is asked to create the owned
 * streams again, so the rows wait for it instead of being charged until they are parked. No
 * answer, or an error, is an outage. A core NATS ping is not enough: it succeeds while JetStream,
 * or one stream (lost quorum, a leader election), cannot store anything.
 */
export async function jetStreamAccepts(
  nc: NatsConnection,
  subject: string,
  timeoutMs = 2_000,
  owned:
    | {
        streams: readonly StreamContract[];
        /** Declares the owned stream(s) found missing, and no other. */
        redeclare: (missing: readonly StreamContract[]) => Promise<void>;
      }
    | undefined = undefined,
): Promise<boolean> {
  const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
  let stream: string;
  try {
    stream = await jsm.streams.find(subject);
  } catch (error) {
    if (!(error instanceof Error && error.message === 'no stream matches subject')) throw error;
    const ours = (owned?.streams ?? []).filter((contract) =>
      contract.subjects.some((filter) => subjectMatches(filter, subject)),
    );
    if (ours.length === 0) return true;
    await owned!.redeclare(ours);
    return false;
  }
  await jsm.streams.info(stream);
  return true;
}

/**
 * Publishes one envelope with Nats-Msg-Id = event id, so JetStream drops a re-publish within the
 * duplicate window. The publish is a producer span, child of the context the event was enqueued
 * in (the call that made the change), and the message carries the publish span's context, so a
 * consumer's span hangs below it in the same trace. The span is not made the active context:
 * nothing but the publish runs inside it, and entering an async context per event was a
 * measurable share of the relay's work. The message is handed to the connection before this
 * returns, so publishes issued one after another reach JetStream in that order. `body` is the
 * encoded envelope when the caller has it already.
 */
export function publishEnvelope(
  js: JetStreamClient,
  envelope: EventEnvelope,
  timeoutMs = 5_000,
  body: Uint8Array = encodeEnvelope(envelope),
): Promise<PubAck> {
  const enqueuedIn = propagation.extract(ROOT_CONTEXT, { ...envelope.traceContext });
  const span = tracer.startSpan(
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
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(enqueuedIn, span), carrier);
  const published: EventEnvelope = { ...envelope };
  if (carrier.traceparent) {
    published.traceContext = { traceparent: carrier.traceparent };
    if (carrier.tracestate) published.traceContext.tracestate = carrier.tracestate;
  }
  const failed = (error: unknown): never => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
    span.end();
    throw error;
  };
  let ack: Promise<PubAck>;
  try {
    ack = js.publish(envelope.type, body, {
      msgID: envelope.id,
      headers: envelopeHeaders(published),
      timeout: timeoutMs,
    });
  } catch (error) {
    ack = Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return ack.then((value) => {
    span.end();
    return value;
  }, failed);
}

/**
 * The oldest rows due, in creation order (uuidv7 ids keep the order of one transaction's events),
 * skipping rows another round or relay holds; ix_outbox_event_claim serves them in that order, so
 * a round reads its rows and stops, however long the backlog. At most $1 rows and, past the first,
 * at most $2 bytes of event data in all: a backlog of large events (a quarter-megabyte report of
 * many pools) would otherwise put rounds x batch x event size in the relay's memory at once,
 * several times over (the text, the message body, the connection's copy). All $1 are locked;
 * `beyond` counts those the budget left out, which stay locked, unpublished, until the round
 * commits.
 */
const CLAIM = `WITH due AS (
    SELECT id, created_at, octet_length(data) AS size FROM outbox_event
    WHERE published_at IS NULL AND parked_at IS NULL
      AND (next_attempt_at IS NULL OR next_attempt_at <= now())
    ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED),
  sized AS (
    SELECT id, size, sum(size) OVER (ORDER BY created_at, id) - size AS before FROM due),
  kept AS (SELECT id FROM sized WHERE before = 0 OR before + size <= $2)
  SELECT o.id, o.type, o.source, o.schema_version, o.occurred_at, o.data::text AS data_json,
    o.trace_context, o.attempts,
    ((SELECT count(*) FROM sized) - (SELECT count(*) FROM kept))::int AS beyond
  FROM outbox_event o JOIN kept ON kept.id = o.id
  ORDER BY o.created_at, o.id`;

const MARK_PUBLISHED = `UPDATE outbox_event SET published_at = now(), attempts = attempts + 1,
    last_error = NULL, next_attempt_at = NULL
  WHERE id = ANY($1::uuid[])`;

/**
 * A failed row. Counted ($2 = 1: NATS works, the row is the problem): its own next attempt later,
 * or parked after its last allowed one. Not counted (an outage): the error only; the relay as a
 * whole backs off.
 */
const RECORD_FAILURE = `UPDATE outbox_event
  SET attempts = attempts + $2, last_error = $3,
      next_attempt_at = CASE WHEN $6 THEN now() + make_interval(secs => $4) END,
      parked_at = CASE WHEN $2 > 0 AND attempts + $2 >= $5 THEN now() END
  WHERE id = $1
  RETURNING parked_at IS NOT NULL AS parked`;

/**
 * One batch of the prune: up to $4 rows published before $1, oldest first, past the last row the
 * batch before chose ($2, $3; keyset order, so no batch walks again over what earlier ones left
 * behind in the index), along ix_outbox_event_published_at (the redundant `published_at >= $2`
 * is what starts the index scan there), deleted through the primary key (`= ANY` of an array: a
 * join could be planned as a scan of the whole table). Answers how many it chose (fewer than $4:
 * none are left; another replica's prune may have deleted some of them first), how many it
 * deleted, and the last one chosen, its time as ISO 8601 text whatever the session's DateStyle,
 * so the next batch goes on from it to the microsecond.
 */
const PRUNE_BATCH = `WITH doomed AS MATERIALIZED (
    SELECT id, published_at FROM outbox_event
    WHERE published_at < $1::timestamptz AND published_at >= $2::timestamptz
      AND (published_at, id) > ($2::timestamptz, $3::uuid)
    ORDER BY published_at, id LIMIT $4),
  gone AS (
    DELETE FROM outbox_event WHERE id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING id)
  SELECT (SELECT count(*) FROM doomed)::int AS chosen, (SELECT count(*) FROM gone)::int AS deleted,
    to_json(last.published_at) #>> '{}' AS published_at, last.id::text AS id
  FROM (SELECT 1) one
  LEFT JOIN (SELECT id, published_at FROM doomed ORDER BY published_at DESC, id DESC LIMIT 1) last
    ON true`;

/** How often the pending and parked gauges are refreshed while the relay is busy. */
const GAUGE_REFRESH_MS = 1_000;

/** A publish whose ack did not come in time (nats.js answers TIMEOUT). */
function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'TIMEOUT' || (error instanceof Error && /timeout/i.test(error.message));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A round between claim and commit: its rows locked, their publishes issued. */
interface ClaimedRound {
  runner: QueryRunner;
  rows: ClaimedOutboxRow[];
  acks: Promise<PromiseSettledResult<PubAck>[]>;
}

type RoundOutcome = { round: RelayRound } | { error: unknown };

/**
 * Moves committed outbox rows to JetStream. A round claims the oldest due rows with FOR UPDATE
 * SKIP LOCKED in a transaction of its own, publishes them with their event id as Nats-Msg-Id,
 * waits for every ack, and marks the acknowledged rows published (one UPDATE) before it commits.
 * If a relay dies anywhere before that commit, its rows are unlocked unmarked and published again,
 * and JetStream's de-duplication by Nats-Msg-Id keeps the stream to one copy.
 *
 * Several rounds may be in flight (`concurrency`): the next round is claimed while earlier ones
 * wait for acks, skipping their locked rows, and its publishes are issued after theirs on the same
 * connection, so one relay's events reach the stream in creation order, as with one round at a
 * time. A row that fails is retried on its own delay and may land after newer events; several
 * replicas (each claiming disjoint rows) interleave. So consumers must not rely on global order:
 * they compare versions, as the events carry them.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly batchSize: number;
  private readonly maxRoundBytes: number;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly channel: string;
  private readonly backoff: BackoffPolicy;
  private readonly publishTimeoutMs: number;
  private readonly retentionMs: number;
  private readonly maxAttempts: number;
  private readonly pruneBatchSize: number;
  private running?: Promise<void>;
  private pruning?: Promise<void>;
  private stopping = false;
  private notified = false;
  private wake?: () => void;
  private listener?: Client;
  private lastPrune = 0;
  private lastGauges = 0;
  private notifyWaiter?: () => void;
  private readonly totals = { rounds: 0, published: 0, duplicates: 0, failed: 0, parked: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly js: JetStreamClient,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_RELAY_BATCH_SIZE;
    this.maxRoundBytes = options.maxRoundBytes ?? DEFAULT_RELAY_ROUND_BYTES;
    if (!Number.isSafeInteger(this.maxRoundBytes) || this.maxRoundBytes < 1)
      throw new RangeError('maxRoundBytes must be a whole number of bytes, at least 1');
    this.concurrency = options.concurrency ?? DEFAULT_RELAY_CONCURRENCY;
    if (
      !Number.isInteger(this.batchSize) ||
      this.batchSize < 1 ||
      this.batchSize > MAX_RELAY_BATCH_SIZE
    )
      throw new RangeError(`batchSize must be an integer from 1 to ${MAX_RELAY_BATCH_SIZE}`);
    if (
      !Number.isInteger(this.concurrency) ||
      this.concurrency < 1 ||
      this.concurrency > MAX_RELAY_CONCURRENCY
    )
      throw new RangeError(`concurrency must be an integer from 1 to ${MAX_RELAY_CONCURRENCY}`);
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.channel = options.channel ?? DEFAULT_OUTBOX_CHANNEL;
    this.backoff = options.backoff ?? DEFAULT_RELAY_BACKOFF;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
    this.maxAttempts = options.maxAttempts ?? 20;
    this.pruneBatchSize = options.pruneBatchSize ?? 1_000;
    if (!Number.isInteger(this.pruneBatchSize) || this.pruneBatchSize < 1)
      throw new RangeError('pruneBatchSize must be a whole number of rows, at least 1');
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

  /**
   * Finishes the rounds in progress (their publishes and marks), then closes the LISTEN
   * connection.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await this.pruning;
    await this.closeListener();
  }

  /**
   * One claim-publish-mark round in one transaction. A row that fails waits on its own growing
   * delay (the others go on); its failures count only while NATS otherwise works — some row of the
   * round published, or the transport check answers — and at `maxAttempts` it is parked.
   */
  async relayOnce(): Promise<RelayRound> {
    const round = await this.complete(await this.claim());
    await this.refreshPending();
    return round;
  }

  /** Rows waiting to be published (parked ones apart); also sets the outbox gauges. */
  async refreshPending(): Promise<number> {
    const [{ pending, parked }] = await this.dataSource.query<
      { pending: number; parked: number }[]
    >(
      `SELECT (SELECT count(*) FROM outbox_event
                WHERE published_at IS NULL AND parked_at IS NULL)::int AS pending,
              (SELECT count(*) FROM outbox_event
                WHERE published_at IS NULL AND parked_at IS NOT NULL)::int AS parked`,
    );
    this.lastGauges = Date.now();
    outboxPending.set(pending);
    outboxParked.set(parked);
    return pending;
  }

  /**
   * Opens a round: its transaction, its rows locked, and every row's publish issued in claim
   * order. An empty round is committed at once.
   */
  private async claim(): Promise<ClaimedRound> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const rows = await runner.manager.query<ClaimedOutboxRow[]>(CLAIM, [
        this.batchSize,
        this.maxRoundBytes,
      ]);
      // Issued one after another on one connection, so JetStream stores them in claim order.
      const acks = Promise.allSettled(
        rows.map((row) =>
          publishEnvelope(
            this.js,
            envelopeFromRow({ ...row, data: undefined }),
            this.publishTimeoutMs,
            encodeClaimedRow(row),
          ),
        ),
      );
      return { runner, rows, acks };
    } catch (error) {
      await this.abandon(runner);
      throw error;
    }
  }

  /**
   * Closes a round: waits for every ack, records each failure, marks the acknowledged rows
   * published, and commits. Anything failing before the commit rolls the whole round back: its
   * rows stay unpublished and go out again (de-duplicated by JetStream).
   */
  private async complete({ runner, rows, acks }: ClaimedRound): Promise<RelayRound> {
    const result: RelayRound = {
      claimed: rows.length,
      published: 0,
      duplicates: 0,
      failed: 0,
      parked: 0,
    };
    try {
      const settled = await acks;
      const done: string[] = [];
      const failed: { row: ClaimedOutboxRow; reason: unknown }[] = [];
      for (const [i, ack] of settled.entries()) {
        const row = rows[i];
        if (ack.status === 'fulfilled') {
          done.push(row.id);
          if (ack.value.duplicate) result.duplicates++;
          else result.published++;
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
          // A publish that timed out may have been stored (and its ack lost): it waits on its own
          // delay like a refused one, but is not charged towards parking. During an outage no row
          // is charged or delayed: the relay backs off as a whole.
          const timedOut = isTimeout(reason);
          const transport = await transportWorks(row.type);
          const counted = transport && !timedOut ? 1 : 0;
          const attempts = (row.attempts ?? 0) + counted;
          // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
          const [[{ parked }]] = await runner.manager.query<[{ parked: boolean }[], number]>(
            RECORD_FAILURE,
            [
              row.id,
              counted,
              errorMessage(reason).slice(0, 2000),
              computeBackoff(Math.max(1, attempts), this.backoff) / 1000,
              this.maxAttempts,
              transport,
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
      if (done.length > 0) await runner.manager.query(MARK_PUBLISHED, [done]);
      await runner.commitTransaction();
    } catch (error) {
      await this.abandon(runner);
      throw error;
    }
    await runner.release();
    // Counted once committed: a round rolled back published nothing as far as the outbox knows.
    for (const [i, ack] of (await acks).entries()) {
      eventsPublished.inc({
        subject: rows[i].type,
        result:
          ack.status === 'rejected' ? 'failed' : ack.value.duplicate ? 'duplicate' : 'published',
      });
    }
    this.totals.rounds++;
    this.totals.published += result.published;
    this.totals.duplicates += result.duplicates;
    this.totals.failed += result.failed;
    this.totals.parked += result.parked;
    return result;
  }

  /** Rolls a round back (its rows unlocked, unmarked) and returns its connection. */
  private async abandon(runner: QueryRunner): Promise<void> {
    try {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
    } catch (error) {
      this.logger.warn(`rolling an outbox round back failed: ${errorMessage(error)}`);
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  private async transportWorks(subject: string): Promise<boolean> {
    if (!this.options.transportCheck) return false;
    try {
      return await this.options.transportCheck(subject);
    } catch {
      return false;
    }
  }

  /**
   * Rounds back to back while they come back full or NOTIFY says more rows committed, up to
   * `concurrency` in flight; otherwise it waits for the rounds in flight and sleeps until NOTIFY
   * or the poll interval. A round in which nothing published (NATS away) or that failed stops the
   * pipeline: the relay waits for what is in flight and backs off as a whole.
   */
  private async run(): Promise<void> {
    let failures = 0;
    const inFlight: Promise<RoundOutcome>[] = [];
    const settle = (outcome: RoundOutcome): void => {
      if ('error' in outcome) {
        failures++;
        this.logger.warn(`outbox round failed: ${errorMessage(outcome.error)}`);
      } else if (outcome.round.failed > 0 && outcome.round.failed === outcome.round.claimed) {
        // Nothing went out: NATS is away. The relay backs off as a whole (each row waits too).
        failures++;
        this.logger.warn(`${outcome.round.failed} event(s) could not be published; retrying`);
      } else {
        // A few failing rows wait on their own delays and do not slow the rest.
        failures = 0;
      }
    };
    const drain = async (): Promise<void> => {
      while (inFlight.length > 0) settle(await inFlight.shift()!);
    };
    while (!this.stopping) {
      let more = false;
      try {
        if (this.options.listen !== false && !this.listener) await this.openListener();
        while (inFlight.length >= this.concurrency) settle(await inFlight.shift()!);
        if (failures > 0 && inFlight.length > 0) {
          // A round that found NATS away stops the claiming: rounds sent after it would land
          // before its rows, out of creation order. The rest settle, then the relay backs off;
          // the first round after the back-off (nothing in flight) probes whether NATS is back.
          await drain();
          more = failures === 0;
        } else {
          this.notified = false;
          const claimed = await this.claim();
          inFlight.push(
            this.complete(claimed).then(
              (round) => ({ round }),
              (error: unknown) => ({ error }),
            ),
          );
          // Rows the byte budget left out stay locked until this round commits: the next round
          // is claimed only after it, so that it takes them first and the order holds.
          const cut = (claimed.rows[0]?.beyond ?? 0) > 0;
          more = cut || claimed.rows.length === this.batchSize || this.notified;
          if (!more || cut) await drain();
          await this.housekeeping(!more);
        }
      } catch (error) {
        failures++;
        this.logger.warn(`outbox round failed: ${errorMessage(error)}`);
      }
      if (this.stopping) break;
      if (failures > 0) await drain();
      if (failures > 0) await this.sleep(computeBackoff(failures, this.backoff), false);
      else if (!more) await this.sleep(this.pollIntervalMs, true);
    }
    await drain();
    await this.refreshPending().catch(() => undefined);
  }

  /**
   * The gauges (when idle, or every GAUGE_REFRESH_MS while busy), and the hourly prune started
   * beside the rounds: it never holds them up.
   */
  private async housekeeping(idle: boolean): Promise<void> {
    if (idle || Date.now() - this.lastGauges >= GAUGE_REFRESH_MS) await this.refreshPending();
    if (this.pruning || this.retentionMs <= 0 || Date.now() - this.lastPrune < 3_600_000) return;
    this.lastPrune = Date.now();
    this.pruning = this.prune()
      .then(
        (deleted) => {
          if (deleted > 0) this.logger.log(`deleted ${deleted} published outbox row(s)`);
        },
        (error: unknown) =>
          this.logger.warn(`pruning published outbox rows failed: ${errorMessage(error)}`),
      )
      .finally(() => {
        this.pruning = undefined;
      });
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

  /**
   * Deletes the rows published longer than the retention ago (the consumers' side keeps its own
   * history), a batch per statement, each its own transaction, until a batch comes back short or
   * the relay stops; returns how many. A busy service's outbox (resource aggregation's events
   * carry up to 200 whole pools) holds hours of large rows: one statement deleting them all would
   * run for long. The cutoff is taken once, by the database's clock (the one published_at is
   * stamped with). It uses one connection of the pool beside the rounds, as the gauges do.
   */
  async prune(): Promise<number> {
    if (this.retentionMs <= 0) return 0;
    const [{ cutoff }] = await this.dataSource.query<{ cutoff: string }[]>(
      `SELECT to_json(now() - make_interval(secs => $1)) #>> '{}' AS cutoff`,
      [this.retentionMs / 1000],
    );
    let after = { publishedAt: '-infinity', id: '00000000-0000-0000-0000-000000000000' };
    let deleted = 0;
    while (!this.stopping) {
      const [batch] = await this.dataSource.query<
        { chosen: number; deleted: number; published_at: string | null; id: string | null }[]
      >(PRUNE_BATCH, [cutoff, after.publishedAt, after.id, this.pruneBatchSize]);
      deleted += batch.deleted;
      if (batch.chosen < this.pruneBatchSize || !batch.published_at || !batch.id) break;
      after = { publishedAt: batch.published_at, id: batch.id };
    }
    return deleted;
  }
}
