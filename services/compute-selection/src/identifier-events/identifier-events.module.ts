import { Module } from '@nestjs/common';
import { LinesModule } from '../lines/lines.module';
import { IdentifierEventsConsumer } from './identifier-events.consumer';

@Module({
  imports: [LinesModule],
  providers: [IdentifierEventsConsumer],
})
export class IdentifierEventsModule {}
