import { SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { Role } from './roles';

export const ACCESS_METADATA = 'cinode:access';
export const SERVICE_CALLERS_METADATA = 'cinode:service-callers';

export type AccessRule =
  | {
      kind: 'roles';
      roles: readonly Role[];
      /** With the `service` role among `roles`: the only internal services (token subjects) let in by it. */
      services?: readonly string[];
    }
  | { kind: 'authenticated' }
  | { kind: 'public' };

/** The RPC may be called by callers holding any of these roles. */
export const AllowRoles = (...roles: Role[]) =>
  SetMetadata(ACCESS_METADATA, { kind: 'roles', roles } satisfies AccessRule);

/**
 * Narrows the `service` role of `AllowRoles` to the node's services named (their token subjects,
 * e.g. `service-center`): another internal service is refused PERMISSION_DENIED
 * (SERVICE_NOT_ALLOWED). For RPCs one service calls by design — holding capacity for an order —
 * so a leaked service token of another service, or another service calling by mistake, cannot use
 * them. It checks the subject the token names: the node's services share one service signing key,
 * so a service compromised to the point of holding that key could still mint any subject (one key
 * per service, named in its JWK, would close that).
 */
export const ServiceCallers = (...services: string[]) =>
  SetMetadata(SERVICE_CALLERS_METADATA, services);

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
  const rule = reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [
    handler,
    controller,
  ]);
  const services = reflector.getAllAndOverride<readonly string[] | undefined>(
    SERVICE_CALLERS_METADATA,
    [handler, controller],
  );
  if (!services) return rule;
  if (rule?.kind !== 'roles' || !rule.roles.includes('service'))
    throw new Error('@ServiceCallers narrows the service role of an @AllowRoles that admits it');
  return { ...rule, services };
}
