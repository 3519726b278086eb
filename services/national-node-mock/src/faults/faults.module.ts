import { Module } from '@nestjs/common';
import { FaultAdminGrpcController } from './fault-admin.grpc-controller';
import { FaultInjectionService } from './fault-injection.service';
import { FaultInterceptor } from './fault.interceptor';

/** Injected faults (UNAVAILABLE share, latency, outage) and the admin RPCs that set them. */
@Module({
  controllers: [FaultAdminGrpcController],
  providers: [FaultInjectionService, FaultInterceptor],
  exports: [FaultInjectionService, FaultInterceptor],
})
export class FaultsModule {}
