import { Module } from '@nestjs/common';
import { HoldsModule } from '../holds/holds.module';
import { InventoryModule } from '../inventory/inventory.module';
import { LivenessRepository } from './liveness.repository';
import { SweeperService } from './sweeper.service';

@Module({
  imports: [HoldsModule, InventoryModule],
  providers: [LivenessRepository, SweeperService],
  exports: [SweeperService],
})
export class LivenessModule {}
