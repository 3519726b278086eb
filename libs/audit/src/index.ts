export * from './audit-chain';
export * from './audit-chain.migration';
export * from './audit-query.service';
export * from './audit-record.entity';
export * from './audit-trail';
export * from './audit.grpc-controller';
export * from './audit.migration';
export * from './audit.module';
export * from './audited.decorator';

import { AuditRecordEntity } from './audit-record.entity';
import { AuditChain1796800000000 } from './audit-chain.migration';
import { CreateAuditLog1796000000100 } from './audit.migration';

export const AUDIT_ENTITIES = [AuditRecordEntity];
export const AUDIT_MIGRATIONS = [CreateAuditLog1796000000100, AuditChain1796800000000];
/** The gRPC service every service with a database serves for its trail. */
export const AUDIT_GRPC_SERVICE = 'cinode.audit.v1.AuditService';
