import { Module } from '@nestjs/common';
import { IdentifiersModule } from '../identifiers/identifiers.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { NationalModule } from '../national/national.module';
import { ParticipantsModule } from '../participants/participants.module';
import { FilingConsumer } from './filing.consumer';

/** Filing issued identifiers with the national node. */
@Module({
  imports: [IdentifiersModule, ParticipantsModule, LifecycleModule, NationalModule],
  providers: [FilingConsumer],
})
export class FilingModule {}
