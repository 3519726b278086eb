import { Module } from '@nestjs/common';
import { FaultsModule } from '../faults/faults.module';
import { NodesModule } from '../nodes/nodes.module';
import { FilingsGrpcController } from './filings.grpc-controller';
import { FilingsRepository } from './filings.repository';
import { FilingsService } from './filings.service';

/** Identifier filings of registered nodes. */
@Module({
  imports: [FaultsModule, NodesModule],
  controllers: [FilingsGrpcController],
  providers: [FilingsRepository, FilingsService],
})
export class FilingsModule {}
