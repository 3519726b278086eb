import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { AllowPublic, AllowRoles } from '@cinode/auth';
import { toTimestamp } from '@cinode/grpc';
import type {
  GetJwksResponse,
  IssueTokenRequest,
  IssueTokenResponse,
  RotateSigningKeyRequest,
  RotateSigningKeyResponse,
  TokenServiceController,
} from '@cinode/proto/gen/cinode/credential/v1/token_service';
import { Audited } from '../audit/audit.interceptor';
import { SERVICE_CENTER_CONFIG, type ServiceCenterConfig } from '../config';
import { ServiceCenterTokenVerifier } from './service-center-token.verifier';
import { SigningKeysService } from './signing-keys.service';
import { TokenExchangeService, addressOfPeer } from './token-exchange.service';

const SERVICE = 'TokenService';

@Controller()
export class TokensGrpcController implements TokenServiceController {
  constructor(
    private readonly exchange: TokenExchangeService,
    private readonly signingKeys: SigningKeysService,
    private readonly verifier: ServiceCenterTokenVerifier,
    @Inject(SERVICE_CENTER_CONFIG) private readonly config: ServiceCenterConfig,
  ) {}

  @GrpcMethod(SERVICE, 'IssueToken')
  @AllowPublic()
  async issueToken(
    request: IssueTokenRequest,
    _metadata?: Metadata,
    call?: ServerUnaryCall<unknown, unknown>,
  ): Promise<IssueTokenResponse> {
    const issued = await this.exchange.issue(request.apiKey, addressOfPeer(call?.getPeer() ?? ''));
    return {
      accessToken: issued.accessToken,
      expiresAt: toTimestamp(issued.expiresAt),
      roles: issued.roles,
      participantId: issued.participantId,
    };
  }

  @GrpcMethod(SERVICE, 'GetJwks')
  @AllowPublic()
  async getJwks(): Promise<GetJwksResponse> {
    const keys = await this.signingKeys.verificationKeys();
    return {
      keys: keys.map((k) => ({
        kid: k.kid ?? '',
        kty: k.kty ?? '',
        crv: k.crv ?? '',
        x: k.x ?? '',
        alg: k.alg ?? '',
        use: k.use ?? '',
      })),
      cacheFor: { seconds: this.config.JWKS_CACHE_SECONDS, nanos: 0 },
    };
  }

  @GrpcMethod(SERVICE, 'RotateSigningKey')
  @AllowRoles('operator')
  @Audited('signing_key', 'requestId', 'activeKid')
  async rotateSigningKey(request: RotateSigningKeyRequest): Promise<RotateSigningKeyResponse> {
    const result = await this.signingKeys.rotate(request.requestId);
    await this.verifier.reload();
    return result;
  }
}
