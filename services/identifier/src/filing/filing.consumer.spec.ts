import { Logger } from '@nestjs/common';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import {
  IdentifierFiled,
  IdentifierIssuance,
  IdentifierIssued,
  IdentifierSuspended,
  eventOf,
  type EventMessage,
} from '@cinode/contracts';
import type { ConsumerDefinition, EventConsumerRegistry } from '@cinode/events';
import { toTimestamp } from '@cinode/grpc';
import {
  IdentifiedObjectType,
  type FileIdentifierRequest,
  type FileIdentifierResponse,
  type RegisterNodeResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  deliver,
  fakes,
  seedIdentifier,
  usableSerial,
  type FakeIdentifiersRepository,
} from '../../test/identifier-fakes';
import type { IdentifierConfig } from '../config';
import type { IdentifierEntity } from '../identifiers/identifier.entity';
import type { NationalNode } from '../national/national-node.gateway';
import { FILING_CONSUMER, FilingConsumer, isPermanentFilingError } from './filing.consumer';

function grpcError(code: GrpcStatus, details: string): Error {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

/** Answers FileIdentifier from a script: each entry is an error to throw or a filing number to return. */
class FakeNationalNode implements NationalNode {
  calls: FileIdentifierRequest[] = [];
  constructor(private readonly script: (Error | string)[]) {}

  registerNode(): Promise<RegisterNodeResponse> {
    throw new Error('not used');
  }

  fileIdentifier(request: FileIdentifierRequest): Promise<FileIdentifierResponse> {
    this.calls.push(request);
    const next = this.script.shift();
    if (next === undefined)
      throw new Error('the national node was called more often than scripted');
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve({
      created: true,
      filing: {
        filingNumber: next,
        identifier: request.identifier,
        nodeCode: request.nodeCode,
        objectType: request.objectType,
        objectName: request.objectName,
        ownerName: request.ownerName,
        ownerCreditCode: request.ownerCreditCode,
        attributes: request.attributes,
        allocatedAt: request.allocatedAt,
        filedAt: toTimestamp(FILED_AT),
      },
    });
  }
}

class FakeRegistry {
  definitions: ConsumerDefinition[] = [];

  register(definition: ConsumerDefinition): Promise<void> {
    this.definitions.push(definition);
    return Promise.resolve();
  }
}

const FILED_AT = new Date('2026-03-04T05:06:07.000Z');

const config = {
  NATIONAL_NODE_TIMEOUT_MS: 5_000,
  FILING_RETRY_INITIAL_MS: 100,
  FILING_RETRY_MAX_MS: 500,
} as IdentifierConfig;

function subject(script: (Error | string)[] = []) {
  const under = fakes();
  under.participants.set('prov-a', 'CERTIFIED');
  const national = new FakeNationalNode(script);
  const registry = new FakeRegistry();
  const consumer = new FilingConsumer(
    registry as unknown as EventConsumerRegistry,
    under.identifiers.asRepository,
    under.participants.asRepository,
    under.lifecycle,
    national,
    config,
  );
  /** Delivers an event the way the platform's consumer does: one unit of work, committed on return. */
  const deliverIssued = (message: EventMessage, deliveryCount = 1) =>
    deliver(under.uow, IdentifierIssuance, (e, c) => consumer.handle(e, c), message, deliveryCount);
  return { ...under, consumer, national, registry, deliverIssued };
}

function pending(identifiers: FakeIdentifiersRepository, from = 1): IdentifierEntity {
  return seedIdentifier(identifiers, usableSerial(from), {
    state: 'pending_filing',
    filingNumber: null,
    filedAt: null,
    version: 1,
  });
}

function issuedEvent(entity: IdentifierEntity): EventMessage {
  return eventOf(IdentifierIssued, {
    identifier: entity.identifier,
    version: 1,
    nodeCode: entity.nodeCode,
    objectType: entity.objectType,
    ownerParticipantId: entity.ownerParticipantId,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the delivery to fail');
    },
    (error: unknown) => error,
  );
}

describe(FilingConsumer.name, () => {
  // The consumer logs every retry and rejection; the assertions below cover what it does.
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('files with the national node, then stores the filing number and moves to FILED with the filed event', async () => {
    const { identifiers, national, uow, deliverIssued } = subject(['NF20260304000001']);
    const entity = pending(identifiers);

    const { deadLettered } = await deliverIssued(issuedEvent(entity));

    expect(national.calls).toEqual([
      {
        nodeCode: 'R0001',
        identifier: entity.identifier,
        objectType: IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_RESOURCE_POOL,
        objectName: entity.objectName,
        ownerName: entity.ownerName,
        ownerCreditCode: entity.ownerCreditCode,
        attributes: entity.attributes,
        allocatedAt: toTimestamp(entity.issuedAt),
      },
    ]);
    expect(identifiers.rows.get(entity.identifier)).toMatchObject({
      state: 'filed',
      filingNumber: 'NF20260304000001',
      filedAt: FILED_AT,
      filingError: null,
      version: 2,
    });
    expect(identifiers.history).toEqual([
      expect.objectContaining({
        fromState: 'pending_filing',
        toState: 'filed',
        actor: 'system:filing',
      }),
    ]);
    expect(uow.events).toEqual([
      eventOf(IdentifierFiled, {
        identifier: entity.identifier,
        version: 2,
        filingNumber: 'NF20260304000001',
      }),
    ]);
    expect(deadLettered).toEqual([]);
  });

  it.each([
    ['SUSPENDED', 'owner_suspended'],
    ['REVOKED', 'owner_revoked'],
  ] as const)(
    'suspends a newly filed identifier at once when its owner was %s during the filing',
    async (ownerState, cause) => {
      const { identifiers, participants, uow, deliverIssued } = subject(['NF1']);
      participants.set('prov-a', ownerState);
      const entity = pending(identifiers);
      await deliverIssued(issuedEvent(entity));
      expect(identifiers.rows.get(entity.identifier)).toMatchObject({
        state: 'suspended',
        suspensionCause: cause,
        filingNumber: 'NF1',
        version: 3,
      });
      expect(identifiers.history.map((t) => [t.fromState, t.toState])).toEqual([
        ['pending_filing', 'filed'],
        ['filed', 'suspended'],
      ]);
      expect(uow.events.map((e) => e.type)).toEqual([
        IdentifierFiled.type,
        IdentifierSuspended.type,
      ]);
    },
  );

  it.each(
    [
      GrpcStatus.UNAVAILABLE,
      GrpcStatus.DEADLINE_EXCEEDED,
      GrpcStatus.RESOURCE_EXHAUSTED,
      GrpcStatus.ABORTED,
      GrpcStatus.INTERNAL,
      GrpcStatus.UNKNOWN,
      GrpcStatus.CANCELLED,
      GrpcStatus.UNAUTHENTICATED,
      GrpcStatus.PERMISSION_DENIED,
    ].map((code) => [GrpcStatus[code], code] as const),
  )('rethrows %s for a retry, leaving the record untouched', async (_name, code) => {
    const failure = grpcError(code, 'national node trouble');
    const { identifiers, national, uow, deliverIssued } = subject([failure]);
    const entity = pending(identifiers);

    expect(await rejectionOf(deliverIssued(issuedEvent(entity)))).toBe(failure);

    expect(isPermanentFilingError(failure)).toBe(false);
    expect(national.calls).toHaveLength(1);
    expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
    expect(identifiers.history).toHaveLength(0);
    expect(uow.events).toHaveLength(0);
  });

  it('retries an error that is not a gRPC status rather than parking the filing', async () => {
    const failure = new Error('could not sign the service token');
    const { identifiers, deliverIssued } = subject([failure]);
    const entity = pending(identifiers);
    expect(isPermanentFilingError(failure)).toBe(false);
    expect(await rejectionOf(deliverIssued(issuedEvent(entity)))).toBe(failure);
    expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
  });

  it('files on the delivery after an outage with identical content, recording one FILED transition', async () => {
    const { identifiers, national, deliverIssued } = subject([
      grpcError(GrpcStatus.UNAVAILABLE, 'down'),
      grpcError(GrpcStatus.DEADLINE_EXCEEDED, 'slow'),
      'NF2',
    ]);
    const entity = pending(identifiers);
    const event = issuedEvent(entity);

    await rejectionOf(deliverIssued(event, 1));
    await rejectionOf(deliverIssued(event, 2));
    await deliverIssued(event, 3);

    expect(national.calls).toHaveLength(3);
    expect(national.calls[1]).toEqual(national.calls[0]);
    expect(national.calls[2]).toEqual(national.calls[0]);
    expect(identifiers.rows.get(entity.identifier)).toMatchObject({
      filingNumber: 'NF2',
      version: 2,
    });
    expect(identifiers.history.filter((t) => t.toState === 'filed')).toHaveLength(1);
  });

  it.each(
    [GrpcStatus.INVALID_ARGUMENT, GrpcStatus.FAILED_PRECONDITION, GrpcStatus.ALREADY_EXISTS].map(
      (code) => [GrpcStatus[code], code] as const,
    ),
  )(
    'marks a %s rejection as filing_error, dead-letters the event and commits',
    async (_name, code) => {
      const rejection = grpcError(code, 'owner credit code is invalid');
      const { identifiers, national, uow, deliverIssued } = subject([rejection]);
      const entity = pending(identifiers);
      const event = issuedEvent(entity);

      const { deadLettered } = await deliverIssued(event, 3);

      expect(isPermanentFilingError(rejection)).toBe(true);
      expect(national.calls).toHaveLength(1);
      const row = identifiers.rows.get(entity.identifier);
      expect(row).toMatchObject({ state: 'pending_filing', filingNumber: null, version: 1 });
      expect(row?.filingError).toBe(rejection.message);
      expect(identifiers.history).toHaveLength(0);
      expect(uow.events).toHaveLength(0);
      expect(deadLettered).toEqual([rejection.message]);

      // A redelivery of the rejected filing does not ask the national node again.
      const again = await deliverIssued(event, 4);
      expect(national.calls).toHaveLength(1);
      expect(again.deadLettered).toEqual([]);
    },
  );

  it('truncates a long rejection to 2000 characters on the record', async () => {
    const rejection = grpcError(GrpcStatus.INVALID_ARGUMENT, 'e'.repeat(3000));
    const { identifiers, deliverIssued } = subject([rejection]);
    const entity = pending(identifiers);
    await deliverIssued(issuedEvent(entity));
    expect(identifiers.rows.get(entity.identifier)?.filingError).toHaveLength(2000);
  });

  it('does not call the national node again for a redelivered event of a filed identifier', async () => {
    const { identifiers, national, uow, deliverIssued } = subject(['NF3']);
    const entity = pending(identifiers);
    const event = issuedEvent(entity);

    await deliverIssued(event, 1);
    const afterFirst = identifiers.rows.get(entity.identifier);
    await deliverIssued(event, 2);

    expect(national.calls).toHaveLength(1);
    expect(identifiers.rows.get(entity.identifier)).toEqual(afterFirst);
    expect(identifiers.history).toHaveLength(1);
    expect(uow.events).toHaveLength(1);
  });

  it.each([
    ['filed', { state: 'filed', filingNumber: 'NF1' }],
    ['suspended', { state: 'suspended', suspensionCause: 'operator', filingNumber: 'NF1' }],
    ['retired', { state: 'retired', filingNumber: 'NF1' }],
    ['retired after a rejected filing', { state: 'retired', filingError: 'rejected' }],
  ] as const)(
    'leaves a %s identifier alone without calling the national node',
    async (_what, overrides) => {
      const { identifiers, national, uow, deliverIssued } = subject();
      const entity = seedIdentifier(identifiers, usableSerial(1), overrides);
      await deliverIssued(issuedEvent(entity));
      expect(national.calls).toHaveLength(0);
      expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
      expect(uow.events).toHaveLength(0);
    },
  );

  it('skips an event naming an identifier it does not hold', async () => {
    const { identifiers, national, deliverIssued } = subject();
    const stranger = pending(identifiers);
    identifiers.rows.clear();
    const { deadLettered } = await deliverIssued(issuedEvent(stranger));
    expect(national.calls).toHaveLength(0);
    expect(deadLettered).toEqual([]);
  });

  it('retries, without recording anything, when the national node answers without a filing number', async () => {
    const { identifiers, deliverIssued } = subject(['']);
    const entity = pending(identifiers);
    await rejectionOf(deliverIssued(issuedEvent(entity)));
    expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
  });

  it('registers a durable consumer of issued events with its own backoff that outwaits a national node call', async () => {
    const { consumer, registry } = subject();
    await consumer.onModuleInit();
    expect(registry.definitions).toHaveLength(1);
    const [definition] = registry.definitions;
    expect(definition).toMatchObject({
      name: FILING_CONSUMER,
      source: IdentifierIssuance,
      backoff: { initialMs: 100, maxMs: 500 },
    });
    expect(definition.ackWaitMs).toBeGreaterThan(config.NATIONAL_NODE_TIMEOUT_MS);
  });
});
