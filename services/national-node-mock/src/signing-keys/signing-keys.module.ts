import { Module } from '@nestjs/common';
import { FaultsModule } from '../faults/faults.module';
import { NodesModule } from '../nodes/nodes.module';
import { SigningKeysGrpcController } from './signing-keys.grpc-controller';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';

/** The public keys nodes sign their reports with. */
@Module({
  imports: [FaultsModule, NodesModule],
  controllers: [SigningKeysGrpcController],
  providers: [SigningKeysRepository, SigningKeysService],
  exports: [SigningKeysRepository],
})
export class SigningKeysModule {}
