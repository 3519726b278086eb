import { Module } from '@nestjs/common';
import { ParticipantsRepository } from './participants.repository';

/** The participant projection, read by issuing, the lifecycle rules and the filing consumer. */
@Module({ providers: [ParticipantsRepository], exports: [ParticipantsRepository] })
export class ParticipantsModule {}
