import { DomainError } from '@cinode/common';

/**
 * Awaits service-level work that must fail with a DomainError and returns it: the in-process
 * counterpart of `expectGrpcError`. Fails the test when the work succeeds or throws anything else.
 */
export async function expectDomainError(work: Promise<unknown>): Promise<DomainError> {
  const outcome: unknown = await work.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => error,
  );
  if (outcome instanceof DomainError) return outcome;
  if (outcome instanceof Error) throw new Error(`expected a DomainError, got ${String(outcome)}`);
  throw new Error(`expected a DomainError, but it resolved with ${JSON.stringify(outcome)}`);
}
