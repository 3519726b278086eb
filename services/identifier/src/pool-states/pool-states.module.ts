import { Module } from '@nestjs/common';
import { PoolStatesConsumer } from './pool-states.consumer';
import { PoolStatesRepository } from './pool-states.repository';

/** Resource pools' live states, projected from resource aggregation's events for ResolveIdentifier. */
@Module({
  providers: [PoolStatesRepository, PoolStatesConsumer],
})
export class PoolStatesModule {}
