import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import type {
  ListAttackEventsRequest,
  ListAttackEventsResponse,
  SecurityServiceClient,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { ReportingConfig } from '../config';

/** Where the attack events of a report come from; an interface so unit tests can fake it. */
export interface SecurityEventsSource {
  listAttackEvents(request: ListAttackEventsRequest): Promise<ListAttackEventsResponse>;
}

/** The security service, called with the node's service token. */
@Injectable()
export class SecurityGateway implements SecurityEventsSource, OnApplicationShutdown {
  private readonly client: GrpcClient<SecurityServiceClient>;

  constructor(
    @InjectConfig() config: ReportingConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    this.client = createGrpcClient<SecurityServiceClient>('cinode.security.v1.SecurityService', {
      address: config.SECURITY_ADDRESS,
      credentials,
      defaultTimeoutMs: config.SECURITY_TIMEOUT_MS,
      token: () => tokens.token(),
    });
  }

  listAttackEvents(request: ListAttackEventsRequest): Promise<ListAttackEventsResponse> {
    return this.client.api.listAttackEvents(request);
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
