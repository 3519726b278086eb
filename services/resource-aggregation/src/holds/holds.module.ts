import { Module } from '@nestjs/common';
import { AllocationsGrpcController } from '../allocations/allocations.grpc-controller';
import { AllocationsRepository } from '../allocations/allocations.repository';
import { AllocationsService } from '../allocations/allocations.service';
import { PoolsModule } from '../pools/pools.module';
import { HeldCapacity } from './held-capacity';
import { HoldsGrpcController } from './holds.grpc-controller';
import { HoldsRepository } from './holds.repository';
import { HoldsService } from './holds.service';

/**
 * Holds and the allocations confirmed holds become: one module, since confirming and releasing a
 * hold open and cancel its allocation in the same transaction, and an allocation's end releases
 * its hold.
 */
@Module({
  imports: [PoolsModule],
  controllers: [HoldsGrpcController, AllocationsGrpcController],
  providers: [
    HoldsRepository,
    HeldCapacity,
    HoldsService,
    AllocationsRepository,
    AllocationsService,
  ],
  exports: [HoldsService, AllocationsService],
})
export class HoldsModule {}
