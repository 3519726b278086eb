import { randomUUID } from 'node:crypto';
import {
  CallHandler,
  ExecutionContext,
  Injectable,
  Logger,
  NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Metadata } from '@grpc/grpc-js';
import { callerOf, type Caller } from '@cinode/auth';
import { DomainError } from '@cinode/common';
import { isGrpcErrorPayload } from '@cinode/grpc';
import { Observable, catchError, from, mergeMap, throwError } from 'rxjs';
import { AuditRepository } from './audit.repository';

const AUDIT_METADATA = 'service-center:audit';

interface AuditRule {
  objectType: string;
  /** Dotted path of the object id in the request. */
  requestPath: string;
  /** Dotted path in the response, preferred when present (a created object's new id). */
  responsePath?: string;
}

/** Marks a state-changing RPC: every call, successful or not, leaves an audit record. */
export const Audited = (objectType: string, requestPath: string, responsePath?: string) =>
  SetMetadata(AUDIT_METADATA, { objectType, requestPath, responsePath } satisfies AuditRule);

function at(value: unknown, path: string): string {
  let node: unknown = value;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return '';
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : '';
}

function resultOf(error: unknown): string {
  if (error instanceof DomainError) return `${error.kind}:${error.reason}`.slice(0, 100);
  if (isGrpcErrorPayload(error)) return `GRPC_${error.code}`;
  return 'INTERNAL';
}

function peerOf(context: ExecutionContext): string {
  const call: unknown = context.getArgByIndex(2);
  if (typeof call === 'object' && call !== null && 'getPeer' in call) {
    const getPeer = (call as { getPeer: unknown }).getPeer;
    if (typeof getPeer === 'function')
      return String((getPeer as () => string).call(call)).slice(0, 128);
  }
  return '';
}

/**
 * Writes the audit record after the call settles. It is a separate statement, not part of the
 * change's transaction: a failed call has no transaction left to join, and one mechanism for both
 * outcomes keeps every audited RPC recorded the same way.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditRepository,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rule = this.reflector.get<AuditRule | undefined>(AUDIT_METADATA, context.getHandler());
    if (!rule || context.getType() !== 'rpc') return next.handle();
    const request = context.switchToRpc().getData<unknown>();
    const write = (response: unknown, result: string) =>
      this.write(context, rule, request, response, result);
    return next.handle().pipe(
      mergeMap(async (response: unknown) => {
        await write(response, 'OK');
        return response;
      }),
      catchError((error: unknown) =>
        from(write(undefined, resultOf(error))).pipe(mergeMap(() => throwError(() => error))),
      ),
    );
  }

  private async write(
    context: ExecutionContext,
    rule: AuditRule,
    request: unknown,
    response: unknown,
    result: string,
  ): Promise<void> {
    let caller: Caller | undefined;
    try {
      caller = callerOf(context.switchToRpc().getContext<Metadata>());
    } catch {
      caller = undefined;
    }
    const objectId =
      (rule.responsePath ? at(response, rule.responsePath) : '') || at(request, rule.requestPath);
    try {
      await this.audit.insert({
        id: randomUUID(),
        actor: caller?.subject ?? 'anonymous',
        actorRoles: caller?.roles.join(',') ?? '',
        action: context.getHandler().name,
        objectType: rule.objectType,
        objectId: objectId.slice(0, 128),
        result,
        peer: peerOf(context),
        occurredAt: new Date(),
      });
    } catch (error) {
      // The call's outcome stands either way; a lost audit row must be loud in the log.
      this.logger.error(
        { err: error, action: context.getHandler().name, objectId },
        'could not write the audit record',
      );
    }
  }
}
