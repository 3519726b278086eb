import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { ParticipantsModule } from '../participants/participants.module';
import { CertificationGrpcController } from './certification.grpc-controller';
import { CertificationService } from './certification.service';

/** Operators' review of participants: certify (with the first API key), reject, suspend, revoke. */
@Module({
  imports: [ParticipantsModule, ApiKeysModule],
  controllers: [CertificationGrpcController],
  providers: [CertificationService],
})
export class CertificationModule {}
