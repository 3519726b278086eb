import { SetMetadata } from '@nestjs/common';

export const AUDIT_METADATA = 'cinode:audit';

/** Where an audited call's object id comes from. */
export interface AuditRule {
  kind: 'audited';
  /** Kind of object, e.g. "participant". */
  objectType: string;
  /**
   * Dotted path of the object id in the request (e.g. "participantId"), or `created` for calls whose
   * request does not name the object (a creation). Either way, a unit of work that names what it
   * changed (`tx.objectId`, set by idempotentInsert and by services) wins; a call that changed
   * nothing (a refusal, a retry) is named from `responsePath` when the answer has it.
   */
  requestPath: string;
  /** Dotted path of the object id in the response, for a created object's id. */
  responsePath?: string;
}

export type CallAuditDeclaration = AuditRule | { kind: 'read_only' };

/**
 * Declares a state-changing RPC: every call leaves exactly one audit record, whatever its outcome.
 * Every RPC must declare either this or `@ReadOnly()`; a service with an undeclared RPC does not
 * start.
 */
export const Audited = (objectType: string, requestPath: string, responsePath?: string) =>
  SetMetadata(AUDIT_METADATA, {
    kind: 'audited',
    objectType,
    requestPath,
    responsePath,
  } satisfies CallAuditDeclaration);

/** Declares an RPC that changes nothing, so it leaves no audit record. */
export const ReadOnly = () =>
  SetMetadata(AUDIT_METADATA, { kind: 'read_only' } satisfies CallAuditDeclaration);

/** The string at a dotted path of a message, or ''. */
export function valueAt(message: unknown, path: string): string {
  let node: unknown = message;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return '';
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : '';
}
