import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { ParticipantsModule } from '../participants/participants.module';
import { QualificationsModule } from '../qualifications/qualifications.module';
import { StartupService } from './startup.service';

/** What the service center does when it starts and periodically after: keys, operator, sweeps. */
@Module({
  imports: [ParticipantsModule, ApiKeysModule, QualificationsModule],
  providers: [StartupService],
})
export class StartupModule {}
