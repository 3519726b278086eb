import { Logger } from '@nestjs/common';
import {
  parseEvent,
  type EventContract,
  type EventSource,
  type ReceivedEvent,
} from '@cinode/contracts';
import { decodeEnvelope } from '@cinode/events';
import { DeliverPolicy, type Consumer, type ConsumerMessages, type NatsConnection } from 'nats';

const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 15_000;
/** How often the stream is checked to still be the one followed. */
const CONTINUITY_CHECK_MS = 15_000;

/** One in-memory state a replica keeps: loaded whole at start, then kept current by events. */
export interface FollowedState<E extends EventContract> {
  /** For the logs, e.g. "offer index". */
  readonly name: string;
  readonly source: EventSource<E>;
  /** Loads the whole state (into the same structure events are applied to); how many items. */
  load(): Promise<number>;
  /** Applies one event; an event older than what is held changes nothing. */
  apply(event: ReceivedEvent<E>): void;
}

/**
 * Keeps one state of a replica current. At start it notes the stream's last sequence, loads the
 * whole state, then follows the stream from the noted sequence on with an ordered consumer of its
 * own (every replica sees every event). Every event carries its object's whole state and version
 * and the state keeps the newest version of each, so events the load already reflects change
 * nothing and replicas converge. A failed build is retried with backoff; `ready` stays false until
 * it is done. Every 15 s the stream is checked to still continue the one followed: recreated, or
 * purged past an event of the followed subjects not yet delivered, the consumer is closed and the
 * state loaded again (the old state keeps answering meanwhile). Other subjects' messages ageing
 * out (allocations beside the pool events on RESOURCE) are no reason to rebuild.
 */
export class StreamFollower<E extends EventContract> {
  private readonly logger: Logger;
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private checker: NodeJS.Timeout | undefined;
  private streamCreated: string | undefined;
  private consumer: Consumer | undefined;
  /**
   * Every event of the followed subjects up to this stream sequence was delivered: the consumer
   * had none pending when the stream ended there. Messages of other subjects after lastSequence
   * may age out or be purged without the state missing anything.
   */
  private caughtUpTo = 0;
  ready = false;
  lastSequence = 0;
  /** How many times the state was loaded (1 after the first build), and the stream checked. */
  builds = 0;
  checks = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly state: FollowedState<E>,
    private readonly checkIntervalMs = CONTINUITY_CHECK_MS,
  ) {
    this.logger = new Logger(`StreamFollower(${state.name})`);
  }

  start(): void {
    this.running = this.buildAndFollow();
    this.checker = setInterval(() => {
      this.checkContinuity().catch((error: unknown) =>
        this.logger.warn({ err: error }, `checking the ${this.streamName} stream failed`),
      );
    }, this.checkIntervalMs);
    this.checker.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checker);
    this.wake?.();
    await this.messages?.close();
    // A build waiting on its source is abandoned, not awaited past the stop.
    await Promise.race([
      this.running,
      new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
  }

  private get streamName(): string {
    return this.state.source.stream.name;
  }

  private async buildAndFollow(): Promise<void> {
    let delay = RETRY_INITIAL_MS;
    while (!this.stopped) {
      try {
        const stream = await this.streamState();
        const from = (stream?.lastSequence ?? 0) + 1;
        const items = await this.state.load();
        this.builds += 1;
        this.lastSequence = from - 1;
        this.caughtUpTo = from - 1;
        this.streamCreated = stream?.created;
        this.messages = await this.subscribe(from);
        this.ready = true;
        delay = RETRY_INITIAL_MS;
        this.logger.log(
          `${this.state.name} built: ${items} items; following the ${this.streamName} stream from ${from}`,
        );
        await this.apply(this.messages);
        if (!this.stopped)
          this.logger.warn(
            `the ${this.streamName} stream was recreated or purged past the ${this.state.name}; rebuilding it`,
          );
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          { err: error },
          `building the ${this.state.name} failed; retrying in ${delay} ms`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /**
   * Whether the stream still continues the one followed: a stream recreated (another creation
   * time, or fewer messages than applied) or purged past the last event applied would leave the
   * state without events it needs. Then the consumer is closed and the state loaded again.
   */
  private async checkContinuity(): Promise<void> {
    if (!this.messages || this.stopped) return;
    const stream = await this.streamState();
    // Read after the stream's state: nothing pending then means every followed event up to
    // that state's last sequence reached this replica.
    const info = await this.consumer?.info().catch(() => undefined);
    // Judged on what earlier checks and the events applied vouch for: nothing pending now says
    // nothing of events purged before they reached this replica (a consumer started again past a
    // purge has nothing pending either), so it only counts for the next check.
    const covered = Math.max(this.lastSequence, this.caughtUpTo);
    const broken =
      stream === undefined ||
      stream.created !== this.streamCreated ||
      stream.lastSequence < this.lastSequence ||
      stream.firstSequence > covered + 1;
    if (!broken && info?.num_pending === 0)
      this.caughtUpTo = Math.max(this.caughtUpTo, stream.lastSequence);
    this.checks += 1;
    if (broken) await this.messages.close();
  }

  private async streamState(): Promise<
    { lastSequence: number; firstSequence: number; created: string } | undefined
  > {
    const jsm = await this.nc.jetstreamManager();
    try {
      const info = await jsm.streams.info(this.streamName);
      return {
        lastSequence: info.state.last_seq,
        firstSequence: info.state.first_seq,
        created: info.created,
      };
    } catch (error) {
      // Not created yet (its owner creates it): every event is still to come.
      if (String(error).includes('stream not found')) return undefined;
      throw error;
    }
  }

  private async subscribe(from: number): Promise<ConsumerMessages> {
    const js = this.nc.jetstream();
    const consumer = await js.consumers.get(this.streamName, {
      // One subject filter (a string): nats-server 2.9 knows no filter_subjects.
      filterSubjects: this.state.source.filterSubject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    this.consumer = consumer;
    return consumer.consume();
  }

  private async apply(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      this.lastSequence = message.seq;
      try {
        const event = parseEvent(this.state.source, decodeEnvelope(message.data));
        if (event) this.state.apply(event);
      } catch (error) {
        // A malformed event cannot be applied; the next version of its object will be.
        this.logger.error(
          { err: error, sequence: message.seq },
          `skipped a malformed ${this.streamName} event`,
        );
      }
    }
  }
}
