import { DynamicModule, Module } from '@nestjs/common';
import { AuditGrpcController } from './audit.grpc-controller';
import { AuditChain } from './audit-chain';
import { AuditQueryService } from './audit-query.service';
import { AUDIT_SERVICE_NAME, AuditTrail } from './audit-trail';

/** The audit trail of one service and its AuditService; the platform module installs it. */
@Module({})
export class AuditModule {
  static forService(service: string): DynamicModule {
    return {
      module: AuditModule,
      global: true,
      controllers: [AuditGrpcController],
      providers: [
        { provide: AUDIT_SERVICE_NAME, useValue: service },
        AuditTrail,
        AuditQueryService,
        AuditChain,
      ],
      exports: [AuditTrail, AuditChain],
    };
  }
}
