import type { Caller } from '@cinode/auth';
import type { PoolEntity } from './pool.entity';

/** Operators, regulators and the node's services see every pool; providers their own. */
export function seesEveryPool(caller: Caller): boolean {
  return caller.roles.some((r) => r === 'operator' || r === 'regulator' || r === 'service');
}

export function maySee(caller: Caller, pool: Pick<PoolEntity, 'providerParticipantId'>): boolean {
  return (
    seesEveryPool(caller) ||
    (Boolean(caller.tenant) && pool.providerParticipantId === caller.tenant)
  );
}
