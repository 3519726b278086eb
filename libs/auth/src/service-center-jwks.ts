import type { ChannelCredentials } from '@grpc/grpc-js';
import type { JWK } from 'jose';
import { createGrpcClient, durationToMs, type GrpcClient } from '@cinode/grpc';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';
import type { RemoteKeySource } from './key-ring';

const DEFAULT_CACHE_MS = 60_000;

/** The service center's signing keys, fetched over gRPC (TokenService/GetJwks needs no token). */
export class ServiceCenterJwks implements RemoteKeySource {
  private readonly client: GrpcClient<TokenServiceClient>;

  /** `credentials`: how this service calls the node's other services (GRPC_CLIENT_TLS_*). */
  constructor(address: string, credentials: ChannelCredentials) {
    this.client = createGrpcClient<TokenServiceClient>('cinode.credential.v1.TokenService', {
      address,
      credentials,
      defaultTimeoutMs: 3_000,
    });
  }

  async fetch(): Promise<{ keys: JWK[]; cacheForMs: number }> {
    const response = await this.client.api.getJwks({});
    return {
      keys: response.keys.map((k) => ({
        kid: k.kid,
        kty: k.kty,
        crv: k.crv,
        x: k.x,
        alg: k.alg,
        use: k.use,
      })),
      cacheForMs: durationToMs(response.cacheFor) || DEFAULT_CACHE_MS,
    };
  }

  close(): void {
    this.client.close();
  }
}
