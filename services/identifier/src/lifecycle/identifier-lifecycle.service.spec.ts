import { FailedPreconditionError } from '@cinode/common';
import {
  IdentifierFiled,
  IdentifierReinstated,
  IdentifierSuspended,
  type IdentifierStateChangedData,
} from '@cinode/contracts';
import { fakes, seedIdentifier, usableSerial } from '../../test/identifier-fakes';
import { IdentifierLifecycle, ownerSuspensionCause } from './identifier-lifecycle.service';

const ACTOR = 'system:participant-events';

describe(IdentifierLifecycle.name, () => {
  describe('transition', () => {
    it('files a pending identifier: number, time, FILED, the next version, a transition and the filed event', async () => {
      const { lifecycle, identifiers, uow } = fakes();
      const pending = seedIdentifier(identifiers, usableSerial(200), {
        state: 'pending_filing',
        filingNumber: null,
        filedAt: null,
        version: 1,
      });
      const filedAt = new Date('2026-02-03T04:05:06.000Z');

      const after = await uow.run((tx) =>
        lifecycle.transition(tx, pending, {
          to: 'filed',
          actor: 'system:filing',
          reason: 'filed with the national node as NF20260203000001',
          filing: { filingNumber: 'NF20260203000001', filedAt },
        }),
      );

      const expected = {
        state: 'filed',
        filingNumber: 'NF20260203000001',
        filedAt,
        filingError: null,
        version: 2,
      };
      expect(after).toMatchObject(expected);
      expect(identifiers.rows.get(pending.identifier)).toMatchObject(expected);
      expect(identifiers.history).toEqual([
        expect.objectContaining({
          fromState: 'pending_filing',
          toState: 'filed',
          actor: 'system:filing',
          reason: 'filed with the national node as NF20260203000001',
        }),
      ]);
      expect(uow.events).toEqual([
        {
          type: IdentifierFiled.type,
          schemaVersion: 1,
          data: { identifier: pending.identifier, version: 2, filingNumber: 'NF20260203000001' },
        },
      ]);
    });

    it('refuses a move the lifecycle does not allow before changing anything', async () => {
      const { lifecycle, identifiers, uow } = fakes();
      const retired = seedIdentifier(identifiers, usableSerial(205), { state: 'retired' });
      const error: unknown = await uow
        .run((tx) =>
          lifecycle.transition(tx, retired, {
            to: 'suspended',
            cause: 'operator',
            actor: 'op-1',
            reason: 'x',
          }),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect(identifiers.rows.get(retired.identifier)).toEqual(retired);
      expect(identifiers.history).toHaveLength(0);
      expect(uow.events).toHaveLength(0);
    });

    it('will not file a pending identifier without the national node’s filing', async () => {
      const { lifecycle, identifiers, uow } = fakes();
      const pending = seedIdentifier(identifiers, usableSerial(207), { state: 'pending_filing' });
      await expect(
        uow.run((tx) =>
          lifecycle.transition(tx, pending, { to: 'filed', actor: 'op-1', reason: 'x' }),
        ),
      ).rejects.toThrow(/filing/);
      expect(identifiers.rows.get(pending.identifier)).toEqual(pending);
    });
  });

  describe('owner cascades', () => {
    it('suspends an owner’s filed identifiers and leaves others alone; revocation makes owner suspensions permanent', async () => {
      const { lifecycle, identifiers, uow } = fakes();
      const filed1 = seedIdentifier(identifiers, usableSerial(230));
      const filed2 = seedIdentifier(identifiers, usableSerial(240), { version: 5 });
      const byOperator = seedIdentifier(identifiers, usableSerial(250), {
        state: 'suspended',
        suspensionCause: 'operator',
      });
      const pending = seedIdentifier(identifiers, usableSerial(260), {
        state: 'pending_filing',
        filingNumber: null,
      });
      const othersFiled = seedIdentifier(identifiers, usableSerial(270), {
        ownerParticipantId: 'prov-b',
      });

      const count = await uow.run((tx) =>
        lifecycle.suspendOwned(tx, 'prov-a', 'owner_suspended', ACTOR, 'owner suspended'),
      );

      expect(count).toBe(2);
      expect(identifiers.rows.get(filed1.identifier)).toMatchObject({
        state: 'suspended',
        suspensionCause: 'owner_suspended',
        version: 3,
      });
      expect(identifiers.rows.get(filed2.identifier)).toMatchObject({
        state: 'suspended',
        suspensionCause: 'owner_suspended',
        version: 6,
      });
      expect(identifiers.rows.get(byOperator.identifier)?.suspensionCause).toBe('operator');
      expect(identifiers.rows.get(pending.identifier)?.state).toBe('pending_filing');
      expect(identifiers.rows.get(othersFiled.identifier)?.state).toBe('filed');
      expect(identifiers.history.map((t) => [t.identifier, t.actor, t.reason])).toEqual([
        [filed1.identifier, ACTOR, 'owner suspended'],
        [filed2.identifier, ACTOR, 'owner suspended'],
      ]);
      expect(
        uow.events.map((e) => [e.type, (e.data as IdentifierStateChangedData).version]),
      ).toEqual([
        [IdentifierSuspended.type, 3],
        [IdentifierSuspended.type, 6],
      ]);

      const revoked = await uow.run((tx) =>
        lifecycle.suspendOwned(tx, 'prov-a', 'owner_revoked', ACTOR, 'owner revoked'),
      );
      expect(revoked).toBe(0);
      for (const id of [filed1, filed2])
        expect(identifiers.rows.get(id.identifier)?.suspensionCause).toBe('owner_revoked');
      expect(identifiers.rows.get(byOperator.identifier)?.suspensionCause).toBe('operator');
      expect(uow.events).toHaveLength(2);
      expect(await uow.run((tx) => lifecycle.restoreOwned(tx, 'prov-a', ACTOR, 'back'))).toBe(0);
    });

    it('restores only identifiers suspended for the owner’s suspension', async () => {
      const { lifecycle, identifiers, uow } = fakes();
      const forOwner = seedIdentifier(identifiers, usableSerial(280), {
        state: 'suspended',
        suspensionCause: 'owner_suspended',
        version: 3,
      });
      const byOperator = seedIdentifier(identifiers, usableSerial(290), {
        state: 'suspended',
        suspensionCause: 'operator',
      });
      const count = await uow.run((tx) =>
        lifecycle.restoreOwned(tx, 'prov-a', ACTOR, 'owner certified'),
      );
      expect(count).toBe(1);
      expect(identifiers.rows.get(forOwner.identifier)).toMatchObject({
        state: 'filed',
        suspensionCause: null,
        version: 4,
      });
      expect(identifiers.rows.get(byOperator.identifier)?.state).toBe('suspended');
      expect(uow.events).toEqual([
        expect.objectContaining({
          type: IdentifierReinstated.type,
          data: expect.objectContaining({
            identifier: forOwner.identifier,
            state: 'filed',
            version: 4,
            suspensionCause: null,
          }),
        }),
      ]);
    });

    it('derives the suspension cause from the owner’s state', () => {
      expect(ownerSuspensionCause('SUSPENDED')).toBe('owner_suspended');
      expect(ownerSuspensionCause('REVOKED')).toBe('owner_revoked');
      for (const state of ['SUBMITTED', 'UNDER_REVIEW', 'CERTIFIED', 'REJECTED'] as const)
        expect(ownerSuspensionCause(state)).toBeUndefined();
    });
  });
});
