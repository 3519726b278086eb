import { hasRole, type Caller } from '@cinode/auth';
import { PermissionDeniedError } from '@cinode/common';
import { ErrorReason } from '../errors';

/**
 * Which nodes a caller acts for. A node's own services call with tokens signed by that node's
 * service key, so the key that registered a node (its `owner_key_id`) is the node's identity here:
 * a service caller acts for, and reads, only the nodes its key registered. The national node's
 * operators and regulators see every node. Returns the owner key to scope by, or undefined for
 * every node.
 */
export function ownerScopeOf(caller: Caller): string | undefined {
  if (!hasRole(caller, 'service')) return undefined;
  // A verified token always names its key; without one the caller owns nothing.
  return caller.signingKeyId ?? '\u0000';
}

/** Whether the caller may act for, or read, this node. */
export function actsFor(caller: Caller, node: { ownerKeyId: string }): boolean {
  const scope = ownerScopeOf(caller);
  return scope === undefined || scope === node.ownerKeyId;
}

/** Refuses a change to a node by a caller that does not act for it. */
export function assertActsFor(
  caller: Caller,
  node: { nodeCode: string; ownerKeyId: string },
): void {
  if (!actsFor(caller, node))
    throw new PermissionDeniedError(
      ErrorReason.NODE_NOT_OWNED,
      `node ${node.nodeCode} was registered with another service key: this caller cannot act for it`,
    );
}
