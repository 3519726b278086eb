import { Injectable } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { PermissionDeniedError, UnauthenticatedError, assertUnreachable } from '@cinode/common';
import type { AccessRule } from './decorators';
import { TokenErrorReason } from './errors';
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
    throw new UnauthenticatedError(
      TokenErrorReason.NO_CALLER,
      'the call carries no authenticated caller',
    );
  return caller;
}

/**
 * Decides whether a call may proceed. Every RPC must declare who may call it (AllowRoles,
 * AllowAuthenticated or AllowPublic); undeclared RPCs are denied. The bearer token in
 * `authorization` is verified locally and the caller attached to the call's metadata for handlers
 * (`callerOf`, or `optionalCallerOf` in public RPCs). The platform's call pipeline runs it for
 * every call, inside the call's audit scope, so refusals are audited like any other outcome.
 */
@Injectable()
export class Authorizer {
  constructor(private readonly verifier: TokenVerifier) {}

  /** Both steps: who is calling, and may they. */
  async authorize(
    rule: AccessRule | undefined,
    metadata: Metadata | undefined,
    rpcName: string,
  ): Promise<Caller | undefined> {
    const caller = await this.authenticate(rule, metadata, rpcName);
    this.checkRoles(rule, caller, rpcName);
    if (caller && metadata) callers.set(metadata, caller);
    return caller;
  }

  /**
   * Who is calling: the verified token's caller, or undefined for a public RPC called without one.
   * Fails for an undeclared RPC, a missing token where one is needed, and any bad token.
   */
  async authenticate(
    rule: AccessRule | undefined,
    metadata: Metadata | undefined,
    rpcName: string,
  ): Promise<Caller | undefined> {
    if (!rule) {
      throw new PermissionDeniedError(
        'RPC_NOT_DECLARED',
        `${rpcName} declares no access rule and is denied`,
      );
    }
    // A public RPC needs no token, but one that is presented must be valid, and then the handler
    // knows who called (e.g. an operator registering a participant on its behalf).
    if (rule.kind === 'public' && !metadata?.get('authorization').length) return undefined;
    return this.verifier.verify(bearerToken(metadata));
  }

  /**
   * The caller of a token verified before, at once; undefined when authenticate() must decide
   * (no rule, no token, a token not remembered, a malformed header: it refuses those).
   */
  rememberedCaller(
    rule: AccessRule | undefined,
    metadata: Metadata | undefined,
  ): Caller | undefined {
    const token = rule ? bearerOf(metadata) : undefined;
    return token === undefined ? undefined : this.verifier.remembered(token);
  }

  /** Whether the authenticated caller may call the RPC; attaches it to the call when so. */
  permit(
    rule: AccessRule | undefined,
    caller: Caller | undefined,
    metadata: Metadata | undefined,
    rpcName: string,
  ): void {
    this.checkRoles(rule, caller, rpcName);
    if (caller && metadata) callers.set(metadata, caller);
  }

  private checkRoles(
    rule: AccessRule | undefined,
    caller: Caller | undefined,
    rpcName: string,
  ): void {
    if (!rule) throw new Error('authenticate() refuses undeclared RPCs first');
    switch (rule.kind) {
      case 'public':
        return;
      case 'authenticated':
        if (!caller) throw new Error('authenticate() returns a caller for non-public RPCs');
        return;
      case 'roles': {
        const admitting = caller?.roles.filter((r) => rule.roles.includes(r)) ?? [];
        if (!caller || admitting.length === 0) {
          throw new PermissionDeniedError(
            'ROLE_NOT_ALLOWED',
            `caller's roles may not call ${rpcName}`,
            { metadata: { allowed_roles: rule.roles.join(',') } },
          );
        }
        // Let in by the service role alone: only the services the RPC names.
        if (
          rule.services &&
          admitting.every((r) => r === 'service') &&
          !rule.services.includes(caller.subject)
        ) {
          throw new PermissionDeniedError(
            'SERVICE_NOT_ALLOWED',
            `service ${caller.subject} may not call ${rpcName}`,
            { metadata: { allowed_services: rule.services.join(',') } },
          );
        }
        return;
      }
      default:
        assertUnreachable(rule, 'access rule');
    }
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The bearer token of the authorization metadata, if it holds one. */
function bearerOf(metadata: Metadata | undefined): string | undefined {
  const values = metadata?.get('authorization') ?? [];
  const header = typeof values[0] === 'string' ? values[0] : '';
  return BEARER.exec(header)?.[1];
}

function bearerToken(metadata: Metadata | undefined): string {
  const token = bearerOf(metadata);
  if (token === undefined)
    throw new UnauthenticatedError(
      TokenErrorReason.TOKEN_MISSING,
      'missing bearer token in authorization metadata',
    );
  return token;
}
