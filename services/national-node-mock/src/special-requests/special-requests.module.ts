import { Module } from '@nestjs/common';
import { FaultsModule } from '../faults/faults.module';
import { NodesModule } from '../nodes/nodes.module';
import {
  SpecialRequestsAdminGrpcController,
  SpecialRequestsGrpcController,
} from './special-requests.grpc-controller';
import { SpecialRequestsRepository } from './special-requests.repository';
import { SpecialRequestsService } from './special-requests.service';

/** Special report requests (特殊时间报送): issued to nodes, listed by them, answered by reports. */
@Module({
  imports: [FaultsModule, NodesModule],
  controllers: [SpecialRequestsGrpcController, SpecialRequestsAdminGrpcController],
  providers: [SpecialRequestsRepository, SpecialRequestsService],
  exports: [SpecialRequestsRepository],
})
export class SpecialRequestsModule {}
