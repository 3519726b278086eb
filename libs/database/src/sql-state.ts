import { DomainError } from '@cinode/common';

/** The SQLSTATE of a Postgres error, bare (node-postgres) or wrapped (TypeORM's QueryFailedError). */
export function sqlStateOf(error: unknown): string | undefined {
  const source = (error as { driverError?: unknown } | null)?.driverError ?? error;
  const code = (source as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** 57014: a statement ended by statement_timeout or by a cancel request. */
export function isStatementCancelled(error: unknown): boolean {
  return sqlStateOf(error) === '57014';
}

/**
 * A serialization failure (40001) or deadlock (40P01) as the ABORTED status it is for a caller:
 * the transaction lost a race and may simply be retried. Any other error is returned as it is.
 */
export function asConflictError(error: unknown): unknown {
  const code = sqlStateOf(error);
  if (code !== '40001' && code !== '40P01') return error;
  return new DomainError(
    'ABORTED',
    'TRANSACTION_CONFLICT',
    'the change conflicted with a concurrent one and was rolled back; retry it',
    { cause: error },
  );
}
