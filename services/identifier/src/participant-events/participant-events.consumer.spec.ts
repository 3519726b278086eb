import { Logger } from '@nestjs/common';
import {
  IdentifierReinstated,
  IdentifierSuspended,
  ParticipantCertified,
  ParticipantLifecycle,
  ParticipantReinstated,
  ParticipantRevoked,
  ParticipantSuspended,
  ParticipantUpdated,
  eventOf,
  type EventContract,
  type ParticipantEventData,
} from '@cinode/contracts';
import type { EventConsumerRegistry } from '@cinode/events';
import { PermanentEventError } from '@cinode/events';
import { deliver, fakes, seedIdentifier, usableSerial } from '../../test/identifier-fakes';
import { PARTICIPANT_CONSUMER, ParticipantEventsConsumer } from './participant-events.consumer';

const OWNER = '0b1c6f1e-2f0a-4f7e-9d41-7a3c2b1d0e9f';

function data(overrides: Partial<ParticipantEventData>): ParticipantEventData {
  return {
    participantId: OWNER,
    version: 1,
    kind: 'COMPUTE_PROVIDER',
    state: 'CERTIFIED',
    previousState: 'UNDER_REVIEW',
    legalName: 'Example Cloud Ltd.',
    creditCode: '91310115MA1K3YJ51X',
    reason: 'documents complete',
    actor: 'op-1',
    ...overrides,
  };
}

function subject() {
  const under = fakes();
  const consumer = new ParticipantEventsConsumer(
    { register: () => Promise.resolve() } as unknown as EventConsumerRegistry,
    under.participants.asRepository,
    under.lifecycle,
  );
  const publish = (
    contract: EventContract<ParticipantEventData>,
    event: Partial<ParticipantEventData>,
  ) =>
    deliver(
      under.uow,
      ParticipantLifecycle,
      (e, c) => consumer.handle(e, c),
      eventOf(contract, data(event)),
    );
  /** Two of the owner's identifiers, filed, and one an operator suspended. */
  const owned = () => ({
    filed: seedIdentifier(under.identifiers, usableSerial(10), { ownerParticipantId: OWNER }),
    byOperator: seedIdentifier(under.identifiers, usableSerial(20), {
      ownerParticipantId: OWNER,
      state: 'suspended',
      suspensionCause: 'operator',
    }),
  });
  return { ...under, consumer, publish, owned };
}

describe(ParticipantEventsConsumer.name, () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('projects a certified participant with its contract names, legal name and credit code', async () => {
    const { participants, publish } = subject();
    await publish(ParticipantCertified, { version: 3 });
    expect(participants.rows.get(OWNER)).toEqual({
      participantId: OWNER,
      version: 3,
      kind: 'COMPUTE_PROVIDER',
      state: 'CERTIFIED',
      legalName: 'Example Cloud Ltd.',
      creditCode: '91310115MA1K3YJ51X',
      eventId: expect.any(String),
    });
  });

  it('takes new details from an update that keeps the state', async () => {
    const { participants, publish } = subject();
    await publish(ParticipantCertified, { version: 3 });
    await publish(ParticipantUpdated, {
      version: 4,
      legalName: 'Renamed Cloud Ltd.',
      creditCode: null,
    });
    expect(participants.rows.get(OWNER)).toMatchObject({
      version: 4,
      state: 'CERTIFIED',
      legalName: 'Renamed Cloud Ltd.',
      creditCode: null,
    });
  });

  it('suspends the owner’s filed identifiers with the owner, and restores them on reinstatement', async () => {
    const { identifiers, uow, publish, owned } = subject();
    const { filed, byOperator } = owned();
    await publish(ParticipantCertified, { version: 3 });

    await publish(ParticipantSuspended, {
      version: 4,
      state: 'SUSPENDED',
      previousState: 'CERTIFIED',
      reason: 'unpaid fees',
    });
    expect(identifiers.rows.get(filed.identifier)).toMatchObject({
      state: 'suspended',
      suspensionCause: 'owner_suspended',
    });
    expect(identifiers.history.at(-1)).toMatchObject({
      actor: 'system:participant-events',
      reason: 'owner suspended: unpaid fees',
    });

    await publish(ParticipantReinstated, { version: 5, previousState: 'SUSPENDED' });
    expect(identifiers.rows.get(filed.identifier)).toMatchObject({
      state: 'filed',
      suspensionCause: null,
    });
    expect(identifiers.rows.get(byOperator.identifier)).toEqual(byOperator);
    expect(uow.events.map((e) => e.type)).toEqual([
      IdentifierSuspended.type,
      IdentifierReinstated.type,
    ]);
  });

  it('suspends a revoked owner’s identifiers for good', async () => {
    const { identifiers, publish, owned } = subject();
    const { filed } = owned();
    await publish(ParticipantRevoked, { version: 6, state: 'REVOKED', previousState: 'CERTIFIED' });
    expect(identifiers.rows.get(filed.identifier)).toMatchObject({
      state: 'suspended',
      suspensionCause: 'owner_revoked',
    });
  });

  it('changes nothing for a version no newer than the projection’s, arriving late or again', async () => {
    const { participants, identifiers, uow, publish, owned } = subject();
    const { filed } = owned();
    await publish(ParticipantSuspended, {
      version: 4,
      state: 'SUSPENDED',
      previousState: 'CERTIFIED',
    });
    await publish(ParticipantReinstated, { version: 5, previousState: 'SUSPENDED' });
    const projected = participants.rows.get(OWNER);
    const events = uow.events.length;

    await publish(ParticipantSuspended, {
      version: 4,
      state: 'SUSPENDED',
      previousState: 'CERTIFIED',
    });
    await publish(ParticipantReinstated, {
      version: 5,
      previousState: 'SUSPENDED',
      legalName: 'Other',
    });

    expect(participants.rows.get(OWNER)).toEqual(projected);
    expect(identifiers.rows.get(filed.identifier)?.state).toBe('filed');
    expect(uow.events).toHaveLength(events);
  });

  it('brings identifiers back in line with a certified owner even when the reinstatement itself was skipped', async () => {
    const { identifiers, publish, owned } = subject();
    const { filed } = owned();
    await publish(ParticipantSuspended, {
      version: 4,
      state: 'SUSPENDED',
      previousState: 'CERTIFIED',
    });
    // Version 5 (the reinstatement) arrives after 6, so it is never applied.
    await publish(ParticipantUpdated, { version: 6, previousState: 'CERTIFIED' });
    expect(identifiers.rows.get(filed.identifier)?.state).toBe('filed');
  });

  it('refuses for good an event whose state contradicts its type, changing nothing', async () => {
    const { participants, identifiers, publish, owned } = subject();
    const { filed } = owned();
    const outcome: unknown = await publish(ParticipantSuspended, {
      version: 4,
      state: 'CERTIFIED',
    }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(PermanentEventError);
    expect(participants.rows.has(OWNER)).toBe(false);
    expect(identifiers.rows.get(filed.identifier)).toEqual(filed);
  });

  it('consumes every participant lifecycle event through the platform, under its durable name', () => {
    const { consumer } = subject();
    expect(consumer.definition()).toMatchObject({
      name: PARTICIPANT_CONSUMER,
      source: ParticipantLifecycle,
    });
  });
});
