import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowPublic, AllowRoles, callerOf } from '@cinode/auth';
import { InjectConfig } from '@cinode/kit';
import { toTimestamp } from '@cinode/grpc';
import type {
  GetJwksResponse,
  IssueTokenRequest,
  IssueTokenResponse,
  RotateSigningKeyRequest,
  RotateSigningKeyResponse,
  TokenServiceController,
} from '@cinode/proto/gen/cinode/credential/v1/token_service';
import type { ServiceCenterConfig } from '../config';
import { ServiceCenterTokenVerifier } from './service-center-token.verifier';
import { SigningKeysService } from './signing-keys.service';
import { TrustedProxies } from './client-address';
import { TokenExchangeService } from './token-exchange.service';

const SERVICE = 'TokenService';

@Controller()
export class TokensGrpcController implements TokenServiceController {
  private readonly proxies: TrustedProxies;

  constructor(
    private readonly exchange: TokenExchangeService,
    private readonly signingKeys: SigningKeysService,
    private readonly verifier: ServiceCenterTokenVerifier,
    @InjectConfig() private readonly config: ServiceCenterConfig,
  ) {
    this.proxies = new TrustedProxies(config.TOKEN_TRUSTED_PROXIES);
  }

  @GrpcMethod(SERVICE, 'IssueToken')
  @AllowPublic()
  @Audited('participant', 'created', 'participantId')
  async issueToken(
    request: IssueTokenRequest,
    metadata?: Metadata,
    call?: ServerUnaryCall<unknown, unknown>,
  ): Promise<IssueTokenResponse> {
    const forwardedFor = (metadata?.get('x-forwarded-for') ?? []).map(String);
    const issued = await this.exchange.issue(
      request.apiKey,
      this.proxies.clientAddress(call?.getPeer() ?? '', forwardedFor),
    );
    return {
      accessToken: issued.accessToken,
      expiresAt: toTimestamp(issued.expiresAt),
      roles: issued.roles,
      participantId: issued.participantId,
    };
  }

  @GrpcMethod(SERVICE, 'GetJwks')
  @AllowPublic()
  @ReadOnly()
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
  @Audited('signing_key', 'created', 'activeKid')
  async rotateSigningKey(
    request: RotateSigningKeyRequest,
    metadata: Metadata,
  ): Promise<RotateSigningKeyResponse> {
    const result = await this.signingKeys.rotate(request.requestId, callerOf(metadata));
    await this.verifier.reload();
    return {
      activeKid: result.activeKid,
      publishedKids: result.publishedKids,
      signsFrom: toTimestamp(result.signsFrom),
    };
  }
}
