import { Module } from '@nestjs/common';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { ParticipantsModule } from '../participants/participants.module';
import { ParticipantEventsConsumer } from './participant-events.consumer';

/** The service center's participant events: the projection and the owner cascades. */
@Module({
  imports: [ParticipantsModule, LifecycleModule],
  providers: [ParticipantEventsConsumer],
})
export class ParticipantEventsModule {}
