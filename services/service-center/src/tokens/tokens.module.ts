import { Global, Module } from '@nestjs/common';
import { TokenVerifier } from '@cinode/auth';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { ParticipantsModule } from '../participants/participants.module';
import { ServiceCenterTokenVerifier } from './service-center-token.verifier';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';
import { TokenAttemptsRepository } from './token-attempts.repository';
import { TokenExchangeService } from './token-exchange.service';
import { TokensGrpcController } from './tokens.grpc-controller';

/**
 * Tokens: API key exchange, the signing keys and their JWKS. Global because its TokenVerifier —
 * which also trusts this service's own signing keys — is the one the platform's call pipeline uses.
 */
@Global()
@Module({
  imports: [ParticipantsModule, ApiKeysModule],
  controllers: [TokensGrpcController],
  providers: [
    SigningKeysRepository,
    SigningKeysService,
    TokenAttemptsRepository,
    TokenExchangeService,
    ServiceCenterTokenVerifier,
    { provide: TokenVerifier, useExisting: ServiceCenterTokenVerifier },
  ],
  exports: [TokenVerifier, ServiceCenterTokenVerifier, SigningKeysService, TokenExchangeService],
})
export class TokensModule {}
