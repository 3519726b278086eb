import { Module } from '@nestjs/common';
import { ParticipantsModule } from '../participants/participants.module';
import { QualificationsGrpcController } from './qualifications.grpc-controller';
import { QualificationsRepository } from './qualifications.repository';
import { QualificationsService } from './qualifications.service';

/** Resale qualifications of resellers: grants, revocations, checks and the expiry sweep. */
@Module({
  imports: [ParticipantsModule],
  controllers: [QualificationsGrpcController],
  providers: [QualificationsRepository, QualificationsService],
  exports: [QualificationsService],
})
export class QualificationsModule {}
