import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { PoolChanges, poolsOf } from '@cinode/contracts';
import { NATS_CONNECTION } from '@cinode/events';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { NatsConnection } from 'nats';
import type { ComputeSelectionConfig } from '../config';
import { OfferIndex } from '@cinode/selection';
import { StreamFollower } from '../followers/stream-follower';
import { poolDataOfMessage } from './pool-message';

const PAGE_SIZE = 500;

/**
 * Builds this replica's offer index and keeps it current (see StreamFollower): every pool from
 * resource aggregation (ListPools), then the RESOURCE stream's pool events. Select answers
 * UNAVAILABLE until it is built.
 */
@Injectable()
export class IndexFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly client: GrpcClient<ResourceServiceClient>;
  private readonly follower: StreamFollower<(typeof PoolChanges.events)[number]>;
  private stopped = false;
  private readonly logger = new Logger(IndexFollower.name);

  constructor(
    readonly index: OfferIndex,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
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
    this.follower = new StreamFollower(nc, {
      name: 'offer index',
      source: PoolChanges,
      load: () => this.loadPools(),
      apply: (event) => {
        const pools = poolsOf(event, (index, problem) =>
          this.logger.error(
            `skipped pool ${index} of a ${event.type} event that is not pool data: ${problem}`,
          ),
        );
        for (const pool of pools) this.index.apply(pool);
      },
    });
  }

  get ready(): boolean {
    return this.follower.ready;
  }

  get lastSequence(): number {
    return this.follower.lastSequence;
  }

  onApplicationBootstrap(): void {
    this.follower.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.follower.stop();
    this.client.close();
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
    this.index.compact();
    return count;
  }
}
