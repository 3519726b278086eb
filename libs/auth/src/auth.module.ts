import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { Authorizer } from './authorizer';
import { KeyRing } from './key-ring';
import { ServiceCenterJwks } from './service-center-jwks';
import {
  ServiceTokenSource,
  TokenVerifier,
  parseJwks,
  signingKeyFromPrivateJwk,
  type TokenSettings,
  type VerificationLimits,
} from './tokens';

export interface AuthModuleOptions extends TokenSettings, VerificationLimits {
  /** AUTH_JWT_PUBLIC_KEYS: JWKS JSON of statically trusted keys (service keys among them). */
  publicKeys: string;
  /** AUTH_JWKS_ADDRESS: the service center's gRPC address, to fetch its signing keys from. */
  jwksAddress?: string;
  /** AUTH_JWKS_MAX_STALE_SECONDS: how long fetched keys are trusted without a successful refresh. */
  jwksMaxStaleSeconds?: number;
  /** How this service calls the node's other services, the JWKS among them (GRPC_CLIENT_TLS_*). */
  peerCredentials: ChannelCredentials;
  /** This service's name: the subject of the tokens it presents to others. */
  serviceName?: string;
  /** AUTH_SERVICE_SIGNING_KEY: private JWK of the node's service key, for calling other services. */
  serviceSigningKey?: string;
  /**
   * The service provides TokenVerifier itself, from a global module of its own (the service center,
   * which trusts the signing keys in its database); this module then provides none.
   */
  ownTokenVerifier?: boolean;
}

const SERVICE_TOKEN_TTL_SECONDS = 300;

/** Fetches the service center's keys before the service serves, and keeps them fresh until it stops. */
@Injectable()
class RemoteJwksLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ServiceCenterJwks) private readonly remote: ServiceCenterJwks | null,
    private readonly ring: KeyRing,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ring.start();
  }

  onApplicationShutdown(): void {
    this.ring.stop();
    this.remote?.close();
  }
}

/**
 * Token verification (static keys and the service center's JWKS), the Authorizer the platform's
 * call pipeline runs for every call, and ServiceTokenSource for calls this service makes to others.
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    const settings: TokenSettings = { issuer: options.issuer, audience: options.audience };
    return {
      module: AuthModule,
      global: true,
      providers: [
        {
          provide: ServiceCenterJwks,
          useFactory: () =>
            options.jwksAddress
              ? new ServiceCenterJwks(options.jwksAddress, options.peerCredentials)
              : null,
        },
        {
          provide: KeyRing,
          inject: [ServiceCenterJwks],
          useFactory: (remote: ServiceCenterJwks | null) =>
            new KeyRing(parseJwks(options.publicKeys).keys, {
              remote: remote ?? undefined,
              maxStaleMs:
                options.jwksMaxStaleSeconds === undefined
                  ? undefined
                  : options.jwksMaxStaleSeconds * 1000,
            }),
        },
        ...(options.ownTokenVerifier
          ? []
          : [
              {
                provide: TokenVerifier,
                inject: [KeyRing],
                useFactory: (ring: KeyRing) =>
                  new TokenVerifier(ring, {
                    ...settings,
                    maxLifetimeSeconds: options.maxLifetimeSeconds,
                    clockToleranceSeconds: options.clockToleranceSeconds,
                  }),
              },
            ]),
        {
          provide: ServiceTokenSource,
          useFactory: () =>
            new ServiceTokenSource(
              options.serviceName ?? 'cinode',
              options.serviceSigningKey
                ? signingKeyFromPrivateJwk(options.serviceSigningKey)
                : undefined,
              settings,
              // A service's own tokens never outlive what its peers accept.
              Math.min(SERVICE_TOKEN_TTL_SECONDS, options.maxLifetimeSeconds),
            ),
        },
        RemoteJwksLifecycle,
        Authorizer,
      ],
      exports: [
        ...(options.ownTokenVerifier ? [] : [TokenVerifier]),
        KeyRing,
        ServiceTokenSource,
        Authorizer,
      ],
    };
  }
}
