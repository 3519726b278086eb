import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ServiceTokenSource } from '@cinode/auth';
import { peerClientTransport } from '@cinode/config';
import {
  PEER_CONNECTIONS,
  clientCredentials,
  createGrpcClient,
  type GrpcClient,
} from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type {
  NationalNodeServiceClient,
  ListSpecialReportRequestsRequest,
  ListSpecialReportRequestsResponse,
  RegisterNodeRequest,
  RegisterNodeResponse,
  RegisterReportSigningKeyRequest,
  RegisterReportSigningKeyResponse,
  SubmitReportRequest,
  SubmitReportResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { ReportingConfig } from '../config';

/** The national node calls this service makes; an interface so unit tests can fake it. */
export interface NationalNode {
  registerNode(request: RegisterNodeRequest): Promise<RegisterNodeResponse>;
  registerReportSigningKey(
    request: RegisterReportSigningKeyRequest,
  ): Promise<RegisterReportSigningKeyResponse>;
  submitReport(request: SubmitReportRequest): Promise<SubmitReportResponse>;
  listSpecialReportRequests(
    request: ListSpecialReportRequestsRequest,
  ): Promise<ListSpecialReportRequestsResponse>;
}

@Injectable()
export class NationalNodeGateway implements NationalNode, OnApplicationShutdown {
  private readonly client: GrpcClient<NationalNodeServiceClient>;

  constructor(@InjectConfig() config: ReportingConfig, token: ServiceTokenSource) {
    this.client = createGrpcClient<NationalNodeServiceClient>(
      'cinode.national.v1.NationalNodeService',
      {
        address: config.NATIONAL_NODE_ADDRESS,
        credentials: clientCredentials(peerClientTransport(config, 'NATIONAL_NODE')),
        defaultTimeoutMs: config.NATIONAL_NODE_TIMEOUT_MS,
        // Minted for the national node's audience: node services refuse it if it is replayed.
        token: () => token.token(config.NATIONAL_NODE_AUDIENCE),
        // A delivery round sends up to DELIVERY_BATCH_SIZE (100) reports at once.
        connections: PEER_CONNECTIONS,
      },
    );
  }

  registerNode(request: RegisterNodeRequest): Promise<RegisterNodeResponse> {
    return this.client.api.registerNode(request);
  }

  registerReportSigningKey(
    request: RegisterReportSigningKeyRequest,
  ): Promise<RegisterReportSigningKeyResponse> {
    return this.client.api.registerReportSigningKey(request);
  }

  submitReport(request: SubmitReportRequest): Promise<SubmitReportResponse> {
    return this.client.api.submitReport(request);
  }

  listSpecialReportRequests(
    request: ListSpecialReportRequestsRequest,
  ): Promise<ListSpecialReportRequestsResponse> {
    return this.client.api.listSpecialReportRequests(request);
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
