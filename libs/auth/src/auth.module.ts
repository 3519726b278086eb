import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { TokenVerifier, parseJwks, type TokenSettings } from './tokens';

export interface AuthModuleOptions extends TokenSettings {
  /** AUTH_JWT_PUBLIC_KEYS: JWKS JSON. */
  publicKeys: string;
}

/** Installs the global AuthGuard with a local token verifier. */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        {
          provide: TokenVerifier,
          useFactory: () =>
            new TokenVerifier(parseJwks(options.publicKeys), { issuer: options.issuer, audience: options.audience }),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [TokenVerifier],
    };
  }
}
