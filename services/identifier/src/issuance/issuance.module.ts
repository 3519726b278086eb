import { Module } from '@nestjs/common';
import { IdentifiersModule } from '../identifiers/identifiers.module';
import { NodeModule } from '../node/node.module';
import { ParticipantsModule } from '../participants/participants.module';
import { IssuanceGrpcController } from './issuance.grpc-controller';
import { IssuanceService } from './issuance.service';

/** Issuing identifiers. */
@Module({
  imports: [IdentifiersModule, ParticipantsModule, NodeModule],
  controllers: [IssuanceGrpcController],
  providers: [IssuanceService],
})
export class IssuanceModule {}
