import { ContractViolationError, MalformedEventError } from '@cinode/contracts';
import { DomainError, type ErrorKind } from '@cinode/common';
import { sqlStateOf } from '@cinode/database';
import { InvalidEnvelopeError } from '../envelope';

/**
 * The handler's verdict that an event can never be handled (a reference to something that cannot
 * exist, a contradiction in the data): the message is dead-lettered at once instead of retried.
 */
export class PermanentEventError extends Error {
  override readonly name = 'PermanentEventError';
}

/**
 * What a failed delivery says about the event:
 * - `permanent`: retrying cannot help (not an event, data breaking its contract, the handler's or
 *   the domain's refusal, Postgres refusing the data) — dead-lettered at once;
 * - `outage`: the database, the network or a peer is down or busy — retried without a delivery
 *   limit, so an outage of any length loses nothing;
 * - `unexplained`: anything else (a bug, a unique violation) — retried a bounded number of times,
 *   then dead-lettered for a person, instead of retried until the stream's age limit drops it.
 */
export type FailureClass = 'permanent' | 'outage' | 'unexplained';

/** Domain errors that say the service is busy or away, not that the event is wrong. */
const TRANSIENT_KINDS = new Set<ErrorKind>([
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
  'CANCELLED',
]);

/** Postgres refusing the data itself: SQLSTATE class 22 (data exception), check violations. */
const PERMANENT_SQLSTATE = /^(22...|23514)$/;

/**
 * Postgres down, restarting, overloaded or resolving a conflict: connection exceptions (08),
 * transaction rollbacks — serialization failures and deadlocks (40), insufficient resources (53),
 * lock not available (55P03), operator intervention — shutdown, cancel (57), system errors (58).
 */
const OUTAGE_SQLSTATE = /^(08...|40...|53...|55P03|57...|58...)$/;

/** Node's errno codes of a network that is down or a peer that is away. */
const OUTAGE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** How node-postgres, pg-pool, TypeORM and wrapped socket errors word a connection that went away. */
const OUTAGE_MESSAGE =
  /connection terminated|terminating connection|timeout exceeded when trying to connect|connection (is )?not (yet )?established|client has encountered a connection error|the database system is (starting up|shutting down)|connection refused|\bE(CONNREFUSED|CONNRESET|CONNABORTED|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)\b/i;

export function classifyFailure(error: unknown): FailureClass {
  if (
    error instanceof MalformedEventError ||
    error instanceof ContractViolationError ||
    error instanceof InvalidEnvelopeError ||
    error instanceof PermanentEventError
  )
    return 'permanent';
  if (error instanceof DomainError) return TRANSIENT_KINDS.has(error.kind) ? 'outage' : 'permanent';
  // A gRPC status from a peer: the handler turns the ones that are a peer's final word into a
  // deadLetter verdict; what it rethrows is the peer being away or unwell.
  if (isGrpcStatusError(error)) return 'outage';
  const code = sqlStateOf(error);
  if (code !== undefined) {
    if (PERMANENT_SQLSTATE.test(code)) return 'permanent';
    if (OUTAGE_SQLSTATE.test(code)) return 'outage';
    return 'unexplained';
  }
  const errno = errnoOf(error);
  if (errno !== undefined && OUTAGE_ERRNO.has(errno)) return 'outage';
  if (error instanceof Error && OUTAGE_MESSAGE.test(error.message)) return 'outage';
  return 'unexplained';
}

/** Whether retrying cannot help (see FailureClass). */
export function isPermanentFailure(error: unknown): boolean {
  return classifyFailure(error) === 'permanent';
}

function errnoOf(error: unknown): string | undefined {
  const source = (error as { driverError?: unknown } | null)?.driverError ?? error;
  const code = (source as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A grpc-js ServiceError: a numeric status code with details and metadata. */
function isGrpcStatusError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, details } = error as { code?: unknown; details?: unknown };
  return typeof code === 'number' && typeof details === 'string' && 'metadata' in error;
}
