import { Module } from '@nestjs/common';
import { IdentifiersModule } from '../identifiers/identifiers.module';
import { ParticipantsModule } from '../participants/participants.module';
import { IdentifierLifecycle } from './identifier-lifecycle.service';
import { LifecycleGrpcController } from './lifecycle.grpc-controller';
import { LifecycleService } from './lifecycle.service';

/** The lifecycle RPCs, and the transition primitive the consumers use too. */
@Module({
  imports: [IdentifiersModule, ParticipantsModule],
  controllers: [LifecycleGrpcController],
  providers: [IdentifierLifecycle, LifecycleService],
  exports: [IdentifierLifecycle],
})
export class LifecycleModule {}
