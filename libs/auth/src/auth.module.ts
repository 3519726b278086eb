import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
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

@Injectable()
class RemoteJwksLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ServiceCenterJwks) private readonly remote: ServiceCenterJwks | null) {}

  onApplicationShutdown(): void {
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
            options.jwksAddress ? new ServiceCenterJwks(options.jwksAddress) : null,
        },
        {
          provide: KeyRing,
          inject: [ServiceCenterJwks],
          useFactory: (remote: ServiceCenterJwks | null) =>
            new KeyRing(parseJwks(options.publicKeys).keys, remote ?? undefined),
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
