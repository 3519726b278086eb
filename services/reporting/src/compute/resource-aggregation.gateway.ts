import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import type {
  GetComputeMapResponse,
  ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { ReportingConfig } from '../config';

/** The compute map source; an interface so unit tests can fake it. */
export interface ComputeMapSource {
  computeMap(): Promise<GetComputeMapResponse>;
}

@Injectable()
export class ResourceAggregationGateway implements ComputeMapSource, OnApplicationShutdown {
  private readonly client: GrpcClient<ResourceServiceClient>;

  constructor(
    @InjectConfig() config: ReportingConfig,
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

  /** The whole node's compute map (every region). */
  computeMap(): Promise<GetComputeMapResponse> {
    return this.client.api.getComputeMap({ regionCode: '' });
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
