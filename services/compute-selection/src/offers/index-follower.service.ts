import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { PoolChanges, RESOURCE_STREAM, parseEvent } from '@cinode/contracts';
import { NATS_CONNECTION, decodeEnvelope } from '@cinode/events';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { DeliverPolicy, type ConsumerMessages, type NatsConnection } from 'nats';
import type { ComputeSelectionConfig } from '../config';
import { OfferIndex } from '@cinode/selection';
import { poolDataOfMessage } from './pool-message';

const PAGE_SIZE = 500;
const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 15_000;
/** How often the stream is checked to still be the one the index follows. */
const CONTINUITY_CHECK_MS = 15_000;

/**
 * Builds this replica's offer index and keeps it current. At start it notes the resource stream's
 * last sequence, reads every pool from resource aggregation (ListPools), then follows the stream
 * from the noted sequence on with an ordered consumer of its own (every replica sees every event).
 * Each event carries its pool's whole state and version and the index keeps the newest version of
 * each pool, so events the listing already reflects change nothing and replicas converge to the
 * same state. A failed build is retried with backoff; Select answers UNAVAILABLE until it is done.
 * Every 15 s the stream is checked to still continue the one followed: recreated or purged past
 * the last event applied, the consumer is closed and the index rebuilt from a fresh listing (the
 * old index keeps answering meanwhile).
 */
@Injectable()
export class IndexFollower implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IndexFollower.name);
  private readonly client: GrpcClient<ResourceServiceClient>;
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private checker: NodeJS.Timeout | undefined;
  private streamCreated: string | undefined;
  ready = false;
  lastSequence = 0;

  constructor(
    readonly index: OfferIndex,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @InjectConfig() config: ComputeSelectionConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    this.client = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
      address: config.RESOURCE_AGGREGATION_ADDRESS,
      credentials,
      defaultTimeoutMs: config.RESOURCE_AGGREGATION_TIMEOUT_MS,
      token: () => tokens.token(),
    });
  }

  onApplicationBootstrap(): void {
    this.running = this.buildAndFollow();
    this.checker = setInterval(() => {
      this.checkContinuity().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'checking the resource stream failed'),
      );
    }, CONTINUITY_CHECK_MS);
    this.checker.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checker);
    this.wake?.();
    await this.messages?.close();
    // A build waiting on resource aggregation is abandoned, not awaited past the stop.
    await Promise.race([
      this.running,
      new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
    this.client.close();
  }

  private async buildAndFollow(): Promise<void> {
    let delay = RETRY_INITIAL_MS;
    while (!this.stopped) {
      try {
        const stream = await this.streamState();
        const from = (stream?.lastSequence ?? 0) + 1;
        const pools = await this.loadPools();
        this.lastSequence = from - 1;
        this.streamCreated = stream?.created;
        this.messages = await this.subscribe(from);
        this.ready = true;
        delay = RETRY_INITIAL_MS;
        this.logger.log(
          `offer index built: ${pools} pools; following the resource stream from ${from}`,
        );
        await this.apply(this.messages);
        if (!this.stopped)
          this.logger.warn(
            'the resource stream was recreated or purged past this index; rebuilding it',
          );
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          { err: error },
          `building the offer index failed; retrying in ${delay} ms`,
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
   * Whether the stream still continues the one the index follows: a stream recreated (another
   * creation time, or fewer messages than applied) or purged past the last event applied would
   * leave the index without events it needs. Then the consumer is closed and the index rebuilt.
   */
  private async checkContinuity(): Promise<void> {
    if (!this.messages || this.stopped) return;
    const stream = await this.streamState();
    const broken =
      stream === undefined ||
      stream.created !== this.streamCreated ||
      stream.lastSequence < this.lastSequence ||
      stream.firstSequence > this.lastSequence + 1;
    if (broken) await this.messages.close();
  }

  private async streamState(): Promise<
    { lastSequence: number; firstSequence: number; created: string } | undefined
  > {
    const jsm = await this.nc.jetstreamManager();
    try {
      const info = await jsm.streams.info(RESOURCE_STREAM.name);
      return {
        lastSequence: info.state.last_seq,
        firstSequence: info.state.first_seq,
        created: info.created,
      };
    } catch (error) {
      // Not created yet (resource aggregation creates it): every event is still to come.
      if (String(error).includes('stream not found')) return undefined;
      throw error;
    }
  }

  private async loadPools(): Promise<number> {
    let pageToken = '';
    let count = 0;
    do {
      const page = await this.client.api.listPools({
        providerParticipantId: '',
        state: 0,
        regionCode: '',
        pageSize: PAGE_SIZE,
        pageToken,
      });
      for (const pool of page.pools) this.index.apply(poolDataOfMessage(pool));
      count += page.pools.length;
      pageToken = page.nextPageToken;
    } while (pageToken !== '' && !this.stopped);
    return count;
  }

  private async subscribe(from: number): Promise<ConsumerMessages> {
    const js = this.nc.jetstream();
    const consumer = await js.consumers.get(RESOURCE_STREAM.name, {
      // One subject filter (a string): nats-server 2.9 knows no filter_subjects.
      filterSubjects: PoolChanges.filterSubject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    return consumer.consume();
  }

  private async apply(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      this.lastSequence = message.seq;
      try {
        const event = parseEvent(PoolChanges, decodeEnvelope(message.data));
        if (event) this.index.apply(event.data);
      } catch (error) {
        // A malformed event cannot be applied; the next version of its pool will be.
        this.logger.error({ err: error, sequence: message.seq }, 'skipped a malformed pool event');
      }
    }
  }
}
