import { Module } from '@nestjs/common';
import { PoolsModule } from '../pools/pools.module';
import { InventoryGrpcController } from './inventory.grpc-controller';
import { InventoryRepository } from './inventory.repository';
import { InventoryService } from './inventory.service';

@Module({
  imports: [PoolsModule],
  controllers: [InventoryGrpcController],
  providers: [InventoryRepository, InventoryService],
  exports: [InventoryRepository],
})
export class InventoryModule {}
