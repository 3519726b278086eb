import { Module } from '@nestjs/common';
import { PoolsModule } from '../pools/pools.module';
import { RiskEventsConsumer } from './risk-events.consumer';

@Module({
  imports: [PoolsModule],
  providers: [RiskEventsConsumer],
})
export class RiskEventsModule {}
