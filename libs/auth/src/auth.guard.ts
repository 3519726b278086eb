import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Metadata } from '@grpc/grpc-js';
import { PermissionDeniedError, UnauthenticatedError, assertUnreachable } from '@cinode/common';
import { ACCESS_METADATA, type AccessRule } from './decorators';
import type { Caller } from './roles';
import { TokenVerifier } from './tokens';

const callers = new WeakMap<object, Caller>();

/** The verified caller of a public RPC that was called with a token, if it was. */
export function optionalCallerOf(metadata: Metadata): Caller | undefined {
  return callers.get(metadata);
}

/** The verified caller of the current RPC, from its metadata. Throws if the RPC had none. */
export function callerOf(metadata: Metadata): Caller {
  const caller = callers.get(metadata);
  if (!caller)
    throw new UnauthenticatedError('NO_CALLER', 'the call carries no authenticated caller');
  return caller;
}

/**
 * Global guard: every RPC must declare who may call it (AllowRoles, AllowAuthenticated or
 * AllowPublic); undeclared RPCs are denied. The bearer token in `authorization` is verified locally
 * and the caller attached to the call's metadata for handlers (`callerOf`, or `optionalCallerOf` in
 * public RPCs).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    const rpcName = rpcPathOf(context) ?? `${context.getClass().name}.${context.getHandler().name}`;
    if (!rule) {
      throw new PermissionDeniedError(
        'RPC_NOT_DECLARED',
        `${rpcName} declares no access rule and is denied`,
      );
    }
    const metadata = context.switchToRpc().getContext<Metadata>();
    if (rule.kind === 'public') {
      // A public RPC needs no token, but one that is presented must be valid, and then the handler
      // knows who called (e.g. an operator registering a participant on its behalf).
      if (metadata?.get('authorization').length)
        callers.set(metadata, await this.verifier.verify(bearerToken(metadata)));
      return true;
    }
    const caller = await this.verifier.verify(bearerToken(metadata));
    switch (rule.kind) {
      case 'authenticated':
        break;
      case 'roles':
        if (!caller.roles.some((r) => rule.roles.includes(r))) {
          throw new PermissionDeniedError(
            'ROLE_NOT_ALLOWED',
            `caller's roles may not call ${rpcName}`,
            {
              metadata: { allowed_roles: rule.roles.join(',') },
            },
          );
        }
        break;
      default:
        assertUnreachable(rule, 'access rule');
    }
    callers.set(metadata, caller);
    return true;
  }
}

function bearerToken(metadata: Metadata | undefined): string {
  const values = metadata?.get('authorization') ?? [];
  const header = typeof values[0] === 'string' ? values[0] : '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    throw new UnauthenticatedError(
      'TOKEN_MISSING',
      'missing bearer token in authorization metadata',
    );
  return match[1];
}

/** The RPC's path as callers know it ("/pkg.Service/Method"), from the grpc-js call. */
function rpcPathOf(context: ExecutionContext): string | undefined {
  const call: unknown = context.getArgByIndex(2);
  if (typeof call !== 'object' || call === null || !('getPath' in call)) return undefined;
  const getPath = (call as { getPath: unknown }).getPath;
  return typeof getPath === 'function' ? String((getPath as () => string).call(call)) : undefined;
}
