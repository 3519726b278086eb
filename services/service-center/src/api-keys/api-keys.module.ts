import { Module } from '@nestjs/common';
import { ParticipantsModule } from '../participants/participants.module';
import { ApiKeyIssuer } from './api-key-issuer';
import { ApiKeysGrpcController } from './api-keys.grpc-controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

/** Participants' API keys: listing, rotation, revocation, and issuing for certification. */
@Module({
  imports: [ParticipantsModule],
  controllers: [ApiKeysGrpcController],
  providers: [ApiKeysRepository, ApiKeyIssuer, ApiKeysService],
  exports: [ApiKeysRepository, ApiKeyIssuer],
})
export class ApiKeysModule {}
