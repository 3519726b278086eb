import { SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { Role } from './roles';

export const ACCESS_METADATA = 'cinode:access';

export type AccessRule =
  | { kind: 'roles'; roles: readonly Role[] }
  | { kind: 'authenticated' }
  | { kind: 'public' };

/** The RPC may be called by callers holding any of these roles. */
export const AllowRoles = (...roles: Role[]) =>
  SetMetadata(ACCESS_METADATA, { kind: 'roles', roles } satisfies AccessRule);

/** The RPC may be called by any authenticated caller. */
export const AllowAuthenticated = () =>
  SetMetadata(ACCESS_METADATA, { kind: 'authenticated' } satisfies AccessRule);

/** The RPC needs no token at all. Use sparingly: discovery and token exchange only. */
export const AllowPublic = () =>
  SetMetadata(ACCESS_METADATA, { kind: 'public' } satisfies AccessRule);

/** The rule of a handler: its own, else its controller's (what every call is checked against). */
export function accessRuleOf(
  reflector: Reflector,
  handler: (...args: never[]) => unknown,
  controller: abstract new (...args: never[]) => unknown,
): AccessRule | undefined {
  return reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [
    handler,
    controller,
  ]);
}
