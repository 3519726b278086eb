import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import { FieldChecks } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { assertMayRetire } from '../access/identifier-access';
import { identifierNotFound, invalidTransition, ownerNotActive } from '../errors';
import { canonicalIdentifier } from '../identifiers/identifier-input';
import type { IdentifierEntity } from '../identifiers/identifier.entity';
import {
  IdentifiersRepository,
  type IdentifierRecord,
} from '../identifiers/identifiers.repository';
import type { ParticipantProjectionEntity } from '../participants/participant-projection.entity';
import { ParticipantsRepository } from '../participants/participants.repository';
import { IdentifierLifecycle, ownerSuspensionCause } from './identifier-lifecycle.service';

function checkedReason(reason: string): string {
  const trimmed = reason.trim();
  new FieldChecks().text('reason', trimmed, { max: 500 }).throwIfAny();
  return trimmed;
}

/** SuspendIdentifier, ReinstateIdentifier and RetireIdentifier: who may, and from which state. */
@Injectable()
export class LifecycleService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly identifiers: IdentifiersRepository,
    private readonly participants: ParticipantsRepository,
    private readonly lifecycle: IdentifierLifecycle,
  ) {}

  async suspend(caller: Caller, input: string, reason: string): Promise<IdentifierRecord> {
    const why = checkedReason(reason);
    return this.change(input, {}, (tx, entity) =>
      this.lifecycle.transition(tx, entity, {
        to: 'suspended',
        cause: 'operator',
        actor: caller.subject,
        reason: why,
      }),
    );
  }

  async reinstate(caller: Caller, input: string, reason: string): Promise<IdentifierRecord> {
    const why = checkedReason(reason);
    return this.change(input, { lockOwnerFirst: true }, async (tx, entity, owner) => {
      // Only a suspension is lifted: pending_filing -> filed belongs to the filing consumer, and an
      // identifier moved there by hand would resolve as filed without ever reaching the national node.
      if (entity.state !== 'suspended') {
        throw invalidTransition(
          entity.identifier,
          entity.state,
          'filed',
          `identifier ${entity.identifier} is ${entity.state.toUpperCase()}; only a suspended identifier is reinstated`,
        );
      }
      if (owner && ownerSuspensionCause(owner.state))
        throw ownerNotActive(
          entity.identifier,
          entity.state,
          entity.ownerParticipantId,
          owner.state,
        );
      return this.lifecycle.transition(tx, entity, {
        to: 'filed',
        actor: caller.subject,
        reason: why,
      });
    });
  }

  async retire(caller: Caller, input: string, reason: string): Promise<IdentifierRecord> {
    const why = checkedReason(reason);
    return this.change(input, {}, (tx, entity) => {
      assertMayRetire(caller, entity);
      if (entity.state === 'pending_filing' && !entity.filingError) {
        throw invalidTransition(
          entity.identifier,
          entity.state,
          'retired',
          `identifier ${entity.identifier} is PENDING_FILING; it can be retired once filed (or once its filing is rejected)`,
        );
      }
      return this.lifecycle.transition(tx, entity, {
        to: 'retired',
        actor: caller.subject,
        reason: why,
      });
    });
  }

  /**
   * One caller-driven change of one identifier, under its row lock; answers with its history.
   * With `lockOwnerFirst` the owner's projection is share-locked before the identifier row, the
   * order the participant-events consumer takes them in (projection, then the owner's
   * identifiers), so the two never deadlock. An identifier's owner never changes, so reading it
   * before the lock is safe.
   */
  private async change(
    input: string,
    options: { lockOwnerFirst?: boolean },
    apply: (
      tx: Tx,
      entity: IdentifierEntity,
      owner: ParticipantProjectionEntity | undefined,
    ) => Promise<IdentifierEntity>,
  ): Promise<IdentifierRecord> {
    const canonical = canonicalIdentifier(input);
    return this.uow.run(async (tx) => {
      let owner: ParticipantProjectionEntity | undefined;
      if (options.lockOwnerFirst) {
        const unlocked = await this.identifiers.find(canonical, tx);
        if (!unlocked) throw identifierNotFound(canonical);
        owner = await this.participants.lockShared(tx, unlocked.ownerParticipantId);
      }
      const entity = await this.identifiers.findForUpdate(tx, canonical);
      if (!entity) throw identifierNotFound(canonical);
      return this.identifiers.record(await apply(tx, entity, owner), tx);
    });
  }
}
