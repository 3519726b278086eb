import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ServiceTokenSource } from '@cinode/auth';
import { peerClientTransport } from '@cinode/config';
import { clientCredentials, createGrpcClient, type GrpcClient } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type {
  FileIdentifierRequest,
  FileIdentifierResponse,
  NationalNodeServiceClient,
  RegisterNodeRequest,
  RegisterNodeResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { IdentifierConfig } from '../config';

/** The national node calls this service makes; an interface so unit tests can fake it. */
export interface NationalNode {
  registerNode(request: RegisterNodeRequest): Promise<RegisterNodeResponse>;
  fileIdentifier(request: FileIdentifierRequest): Promise<FileIdentifierResponse>;
}

@Injectable()
export class NationalNodeGateway implements NationalNode, OnApplicationShutdown {
  private readonly client: GrpcClient<NationalNodeServiceClient>;

  constructor(@InjectConfig() config: IdentifierConfig, token: ServiceTokenSource) {
    this.client = createGrpcClient<NationalNodeServiceClient>(
      'cinode.national.v1.NationalNodeService',
      {
        address: config.NATIONAL_NODE_ADDRESS,
        // NATIONAL_NODE_TLS_*, or as the node's own services when unset (the in-node mock).
        credentials: clientCredentials(peerClientTransport(config, 'NATIONAL_NODE')),
        defaultTimeoutMs: config.NATIONAL_NODE_TIMEOUT_MS,
        // Minted for the national node's audience: node services refuse it if it is replayed.
        token: () => token.token(config.NATIONAL_NODE_AUDIENCE),
      },
    );
  }

  registerNode(request: RegisterNodeRequest): Promise<RegisterNodeResponse> {
    return this.client.api.registerNode(request);
  }

  fileIdentifier(request: FileIdentifierRequest): Promise<FileIdentifierResponse> {
    return this.client.api.fileIdentifier(request);
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
