import { Module } from '@nestjs/common';
import { FaultsModule } from '../faults/faults.module';
import { NodesModule } from '../nodes/nodes.module';
import { SigningKeysModule } from '../signing-keys/signing-keys.module';
import { SpecialRequestsModule } from '../special-requests/special-requests.module';
import { ReportsGrpcController } from './reports.grpc-controller';
import { ReportsRepository } from './reports.repository';
import { ReportsService } from './reports.service';

/** Reports nodes submit, with receipts. */
@Module({
  imports: [FaultsModule, NodesModule, SigningKeysModule, SpecialRequestsModule],
  controllers: [ReportsGrpcController],
  providers: [ReportsRepository, ReportsService],
})
export class ReportsModule {}
