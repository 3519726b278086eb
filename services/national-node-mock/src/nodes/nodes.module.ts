import { Module } from '@nestjs/common';
import { FaultsModule } from '../faults/faults.module';
import { NodesGrpcController } from './nodes.grpc-controller';
import { NodesRepository } from './nodes.repository';
import { NodesService } from './nodes.service';

/** Node registration: codes and identifier prefixes. */
@Module({
  imports: [FaultsModule],
  controllers: [NodesGrpcController],
  providers: [NodesRepository, NodesService],
  exports: [NodesRepository],
})
export class NodesModule {}
