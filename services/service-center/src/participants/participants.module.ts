import { Module } from '@nestjs/common';
import { ParticipantTransitions } from './participant-transitions';
import { ParticipantsGrpcController } from './participants.grpc-controller';
import { ParticipantsRepository } from './participants.repository';
import { ParticipantsService } from './participants.service';

/** Registration and the participant record; its lifecycle primitive serves the other features. */
@Module({
  controllers: [ParticipantsGrpcController],
  providers: [ParticipantsRepository, ParticipantTransitions, ParticipantsService],
  exports: [ParticipantsRepository, ParticipantTransitions, ParticipantsService],
})
export class ParticipantsModule {}
