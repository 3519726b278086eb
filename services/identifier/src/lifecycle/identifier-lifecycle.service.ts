import { Injectable } from '@nestjs/common';
import {
  IdentifierFiled,
  IdentifierReinstated,
  IdentifierRetired,
  IdentifierSuspended,
  eventOf,
  type EventMessage,
  type ParticipantStateName,
} from '@cinode/contracts';
import type { Tx } from '@cinode/database';
import { assertTransition, type SuspensionCauseName } from '../identifiers/identifier-states';
import type { IdentifierEntity } from '../identifiers/identifier.entity';
import { IdentifiersRepository, type IdentifierPatch } from '../identifiers/identifiers.repository';

/** The national node's acceptance of a filing. */
export interface Filing {
  filingNumber: string;
  filedAt: Date;
}

interface Move {
  /** A caller's subject, or `system:<component>` for automatic changes. */
  actor: string;
  /** At most 500 characters. */
  reason: string;
}

/** A move of an existing identifier. Issuing (to PENDING_FILING) creates the record instead. */
export type StateChange =
  | (Move & { to: 'suspended'; cause: SuspensionCauseName })
  /** From PENDING_FILING with the filing (the filing consumer), or from SUSPENDED (reinstatement). */
  | (Move & { to: 'filed'; filing?: Filing })
  | (Move & { to: 'retired' });

export type OwnerSuspensionCause = Extract<
  SuspensionCauseName,
  'owner_suspended' | 'owner_revoked'
>;

/** How an owner in this state holds its identifiers: suspended with this cause, or undefined for not at all. */
export function ownerSuspensionCause(
  state: ParticipantStateName,
): OwnerSuspensionCause | undefined {
  if (state === 'SUSPENDED') return 'owner_suspended';
  if (state === 'REVOKED') return 'owner_revoked';
  return undefined;
}

function eventOfMove(after: IdentifierEntity, change: StateChange, filing?: Filing): EventMessage {
  if (filing) {
    return eventOf(IdentifierFiled, {
      identifier: after.identifier,
      version: after.version,
      filingNumber: filing.filingNumber,
    });
  }
  const data = {
    identifier: after.identifier,
    version: after.version,
    ownerParticipantId: after.ownerParticipantId,
    state: after.state,
    suspensionCause: after.suspensionCause,
    reason: change.reason,
    actor: change.actor,
  };
  switch (change.to) {
    case 'suspended':
      return eventOf(IdentifierSuspended, data);
    case 'filed':
      return eventOf(IdentifierReinstated, data);
    case 'retired':
      return eventOf(IdentifierRetired, data);
  }
}

/**
 * The lifecycle of issued identifiers. `transition` is the one way an identifier changes state —
 * the RPCs, the owner cascades and the filing consumer all go through it — and the cascades apply
 * it to every identifier an owner's new state affects.
 */
@Injectable()
export class IdentifierLifecycle {
  constructor(private readonly identifiers: IdentifiersRepository) {}

  /**
   * In the caller's transaction, on an identifier the caller read with `findForUpdate`: checks the
   * move against the lifecycle (FAILED_PRECONDITION INVALID_TRANSITION naming the current state),
   * stores the new state with the next version, records the transition and emits the move's event
   * carrying that version. Returns the identifier as it now is.
   */
  async transition(
    tx: Tx,
    entity: IdentifierEntity,
    change: StateChange,
  ): Promise<IdentifierEntity> {
    assertTransition(entity.identifier, entity.state, change.to);
    // Only the filing consumer moves PENDING_FILING to FILED, with the national node's filing.
    const filing =
      change.to === 'filed' && entity.state === 'pending_filing' ? change.filing : undefined;
    if (change.to === 'filed' && entity.state === 'pending_filing' && !filing)
      throw new Error(`${entity.identifier}: filing it needs the national node's filing`);
    const now = new Date();
    const patch: IdentifierPatch = {
      state: change.to,
      suspensionCause: change.to === 'suspended' ? change.cause : null,
      stateChangedAt: now,
      version: entity.version + 1,
    };
    if (filing) {
      patch.filingNumber = filing.filingNumber;
      patch.filedAt = filing.filedAt;
      patch.filingError = null;
    }
    const after: IdentifierEntity = { ...entity, ...patch };
    const event = eventOfMove(after, change, filing);
    await this.identifiers.update(tx, entity.identifier, patch);
    await this.identifiers.addTransitions(tx, [
      {
        identifier: entity.identifier,
        fromState: entity.state,
        toState: change.to,
        actor: change.actor,
        reason: change.reason,
        changedAt: now,
      },
    ]);
    await tx.emit(event);
    // The audit record names the identifier canonically, however the caller spelled it.
    tx.objectId ??= entity.identifier;
    return after;
  }

  /**
   * The owner was suspended or revoked: its FILED identifiers are suspended with that cause. A
   * revocation also turns earlier owner suspensions into revocations, which are never lifted; that
   * changes no state, so it is no transition and no event. Returns how many changed state.
   */
  async suspendOwned(
    tx: Tx,
    ownerParticipantId: string,
    cause: OwnerSuspensionCause,
    actor: string,
    reason: string,
  ): Promise<number> {
    const filed = await this.identifiers.findOwnedForUpdate(tx, ownerParticipantId, 'filed');
    for (const entity of filed)
      await this.transition(tx, entity, { to: 'suspended', cause, actor, reason });
    if (cause === 'owner_revoked') {
      const suspended = await this.identifiers.findOwnedForUpdate(
        tx,
        ownerParticipantId,
        'suspended',
        ['owner_suspended'],
      );
      for (const entity of suspended)
        await this.identifiers.update(tx, entity.identifier, { suspensionCause: 'owner_revoked' });
    }
    return filed.length;
  }

  /**
   * The owner is certified again: identifiers suspended because it was suspended return to FILED.
   * Ones an operator suspended stay suspended. Returns how many changed state.
   */
  async restoreOwned(
    tx: Tx,
    ownerParticipantId: string,
    actor: string,
    reason: string,
  ): Promise<number> {
    const suspended = await this.identifiers.findOwnedForUpdate(
      tx,
      ownerParticipantId,
      'suspended',
      ['owner_suspended'],
    );
    for (const entity of suspended)
      await this.transition(tx, entity, { to: 'filed', actor, reason });
    return suspended.length;
  }
}
