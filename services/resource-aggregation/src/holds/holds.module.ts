import { Module } from '@nestjs/common';
import { PoolsModule } from '../pools/pools.module';
import { HoldsGrpcController } from './holds.grpc-controller';
import { HoldsRepository } from './holds.repository';
import { HoldsService } from './holds.service';

@Module({
  imports: [PoolsModule],
  controllers: [HoldsGrpcController],
  providers: [HoldsRepository, HoldsService],
  exports: [HoldsService],
})
export class HoldsModule {}
