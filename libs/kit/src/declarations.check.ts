import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { AUDIT_METADATA, AuditTrail, type CallAuditDeclaration } from '@cinode/audit';
import { accessRuleOf } from '@cinode/auth';
import { rpcDeclarations } from '@cinode/telemetry';

/**
 * Refuses to start a service with an RPC that does not say who may call it and whether it changes
 * state (`@Audited` or `@ReadOnly`): the audit trail can only be complete if no RPC is forgotten.
 * Each RPC's kind is published as `cinode_rpc_declared{rpc, kind}` (1), so an audit of the trail
 * can tell, from the service itself, which calls must have a record.
 */
@Injectable()
export class DeclarationsCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Optional() private readonly trail?: AuditTrail,
  ) {}

  onModuleInit(): void {
    const problems: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      // Request-scoped controllers have no static instance: their class still carries the metadata.
      const metatype = (wrapper.metatype ??
        (wrapper.instance as object | undefined)?.constructor) as
        | (abstract new (...args: never[]) => unknown)
        | undefined;
      if (typeof metatype !== 'function') continue;
      const prototype = metatype.prototype as Record<string, unknown>;
      const controller = metatype;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        const method = handler as (...args: never[]) => unknown;
        if (this.reflector.get(PATTERN_METADATA, method) === undefined) continue;
        const where = `${controller.name}.${name}`;
        if (!accessRuleOf(this.reflector, method, controller))
          problems.push(
            `${where} declares no access rule (@AllowRoles, @AllowAuthenticated or @AllowPublic)`,
          );
        const audit = this.reflector.get<CallAuditDeclaration | undefined>(AUDIT_METADATA, method);
        if (!audit) {
          problems.push(`${where} declares neither @Audited nor @ReadOnly`);
          continue;
        }
        if (audit.kind === 'audited' && !this.trail)
          problems.push(`${where} is @Audited, but the service has no database for its trail`);
        const patterns =
          this.reflector.get<Array<{ service?: string; rpc?: string }> | undefined>(
            PATTERN_METADATA,
            method,
          ) ?? [];
        for (const pattern of patterns)
          rpcDeclarations.set(
            {
              rpc: `${pattern.service ?? ''}/${pattern.rpc ?? ''}`,
              kind: audit.kind === 'audited' ? 'audited' : 'read_only',
            },
            1,
          );
      }
    }
    if (problems.length > 0) {
      throw new Error(`RPCs without declarations:\n  ${problems.join('\n  ')}`);
    }
  }
}
