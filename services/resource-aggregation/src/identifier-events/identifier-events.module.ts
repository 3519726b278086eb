import { Module } from '@nestjs/common';
import { PoolsModule } from '../pools/pools.module';
import { IdentifierEventsConsumer } from './identifier-events.consumer';

@Module({
  imports: [PoolsModule],
  providers: [IdentifierEventsConsumer],
})
export class IdentifierEventsModule {}
