import { Module } from '@nestjs/common';
import { FaultsModule } from '../faults/faults.module';
import { NodesModule } from '../nodes/nodes.module';
import { SpecialRequestsModule } from '../special-requests/special-requests.module';
import { ComplianceGrpcController } from './compliance.grpc-controller';
import { ComplianceRepository } from './compliance.repository';
import { ComplianceService } from './compliance.service';

/** Whether each node's daily report arrived inside a reporting window, per day. */
@Module({
  imports: [FaultsModule, NodesModule, SpecialRequestsModule],
  controllers: [ComplianceGrpcController],
  providers: [ComplianceRepository, ComplianceService],
})
export class ComplianceModule {}
