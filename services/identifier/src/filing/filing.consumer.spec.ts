import { Logger } from '@nestjs/common';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import {
  createEnvelope,
  deadLetterSubject,
  type ConsumerDefinition,
  type EventConsumerRegistry,
  type EventEnvelope,
  type EventHandlerContext,
} from '@cinode/events';
import { toTimestamp } from '@cinode/grpc';
import {
  IdentifiedObjectType,
  type FileIdentifierRequest,
  type FileIdentifierResponse,
  type RegisterNodeResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { JetStreamPublishOptions, NatsConnection } from 'nats';
import type { EntityManager } from 'typeorm';
import {
  identifiersService,
  seedIdentifier,
  usableSerial,
  type FakeIdentifiersRepository,
} from '../../test/identifier-fakes';
import type { IdentifierConfig } from '../config';
import { IDENTIFIER_EVENTS, type IdentifierIssuedData } from '../identifiers/identifier-events';
import type { IdentifierEntity } from '../identifiers/identifier.entity';
import type { IdentifiersRepository } from '../identifiers/identifiers.repository';
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

interface Published {
  subject: string;
  payload: string;
  options: Partial<JetStreamPublishOptions> | undefined;
}

class FakeNats {
  published: Published[] = [];

  jetstream() {
    return {
      publish: (
        subject: string,
        payload: Uint8Array,
        options?: Partial<JetStreamPublishOptions>,
      ) => {
        this.published.push({ subject, payload: Buffer.from(payload).toString('utf8'), options });
        return Promise.resolve({ stream: 'DLQ', seq: this.published.length, duplicate: false });
      },
    };
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
  const under = identifiersService();
  under.participants.set('prov-a', 'certified');
  const national = new FakeNationalNode(script);
  const nats = new FakeNats();
  const registry = new FakeRegistry();
  const consumer = new FilingConsumer(
    registry as unknown as EventConsumerRegistry,
    under.identifiers as unknown as IdentifiersRepository,
    under.service,
    national,
    nats as unknown as NatsConnection,
    config,
  );
  return { ...under, consumer, national, nats, registry };
}

function pending(identifiers: FakeIdentifiersRepository, from = 1): IdentifierEntity {
  return seedIdentifier(identifiers, usableSerial(from), {
    state: 'pending_filing',
    filingNumber: null,
    filedAt: null,
  });
}

function issuedEvent(entity: IdentifierEntity): EventEnvelope<IdentifierIssuedData> {
  return createEnvelope('identifier', {
    type: IDENTIFIER_EVENTS.issued,
    data: {
      identifier: entity.identifier,
      nodeCode: entity.nodeCode,
      objectType: entity.objectType,
      ownerParticipantId: entity.ownerParticipantId,
    },
  });
}

/**
 * Delivers the event the way EventConsumer does: in one transaction that commits on return (ack)
 * and rolls back on throw (nak). Returns the transaction's manager.
 */
async function deliver(
  consumer: FilingConsumer,
  identifiers: FakeIdentifiersRepository,
  envelope: EventEnvelope<unknown>,
  deliveryCount = 1,
): Promise<EntityManager> {
  return identifiers.inTransaction(async (manager) => {
    const context: EventHandlerContext = {
      manager,
      deliveryCount,
      subject: envelope.type,
      streamSequence: 42,
    };
    await consumer.handle(envelope, context);
    return manager;
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
    const { consumer, identifiers, national, outbox, nats } = subject(['NF20260304000001']);
    const entity = pending(identifiers);

    const manager = await deliver(consumer, identifiers, issuedEvent(entity));

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
    });
    expect(identifiers.history).toEqual([
      expect.objectContaining({
        fromState: 'pending_filing',
        toState: 'filed',
        actor: 'system:filing',
      }),
    ]);
    expect(outbox.events).toEqual([
      {
        manager,
        type: IDENTIFIER_EVENTS.filed,
        data: { identifier: entity.identifier, filingNumber: 'NF20260304000001' },
      },
    ]);
    expect(nats.published).toHaveLength(0);
  });

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
    const { consumer, identifiers, national, outbox, nats } = subject([failure]);
    const entity = pending(identifiers);

    expect(await rejectionOf(deliver(consumer, identifiers, issuedEvent(entity)))).toBe(failure);

    expect(isPermanentFilingError(failure)).toBe(false);
    expect(national.calls).toHaveLength(1);
    expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
    expect(identifiers.history).toHaveLength(0);
    expect(outbox.events).toHaveLength(0);
    expect(nats.published).toHaveLength(0);
  });

  it('retries an error that is not a gRPC status rather than parking the filing', async () => {
    const failure = new Error('could not sign the service token');
    const { consumer, identifiers, nats } = subject([failure]);
    const entity = pending(identifiers);
    expect(await rejectionOf(deliver(consumer, identifiers, issuedEvent(entity)))).toBe(failure);
    expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
    expect(nats.published).toHaveLength(0);
  });

  it('files on the delivery after an outage with identical content, recording one FILED transition', async () => {
    const { consumer, identifiers, national } = subject([
      grpcError(GrpcStatus.UNAVAILABLE, 'down'),
      grpcError(GrpcStatus.DEADLINE_EXCEEDED, 'slow'),
      'NF2',
    ]);
    const entity = pending(identifiers);
    const event = issuedEvent(entity);

    await rejectionOf(deliver(consumer, identifiers, event, 1));
    await rejectionOf(deliver(consumer, identifiers, event, 2));
    await deliver(consumer, identifiers, event, 3);

    expect(national.calls).toHaveLength(3);
    expect(national.calls[1]).toEqual(national.calls[0]);
    expect(national.calls[2]).toEqual(national.calls[0]);
    expect(identifiers.rows.get(entity.identifier)?.filingNumber).toBe('NF2');
    expect(identifiers.history.filter((t) => t.toState === 'filed')).toHaveLength(1);
  });

  it.each(
    [GrpcStatus.INVALID_ARGUMENT, GrpcStatus.FAILED_PRECONDITION, GrpcStatus.ALREADY_EXISTS].map(
      (code) => [GrpcStatus[code], code] as const,
    ),
  )(
    'marks a %s rejection as filing_error, parks a copy on the dead-letter subject and acks',
    async (_name, code) => {
      const rejection = grpcError(code, 'owner credit code\r\nis invalid');
      const { consumer, identifiers, national, outbox, nats } = subject([rejection]);
      const entity = pending(identifiers);
      const event = issuedEvent(entity);

      await deliver(consumer, identifiers, event, 3);

      expect(isPermanentFilingError(rejection)).toBe(true);
      expect(national.calls).toHaveLength(1);
      const row = identifiers.rows.get(entity.identifier);
      expect(row).toMatchObject({ state: 'pending_filing', filingNumber: null });
      expect(row?.filingError).toBe(rejection.message);
      expect(identifiers.history).toHaveLength(0);
      expect(outbox.events).toHaveLength(0);

      expect(nats.published).toHaveLength(1);
      const [parked] = nats.published;
      expect(parked.subject).toBe(deadLetterSubject(FILING_CONSUMER));
      expect(JSON.parse(parked.payload)).toEqual(JSON.parse(JSON.stringify(event)));
      expect(parked.options?.msgID).toBe(`${FILING_CONSUMER}:${event.id}`);
      const headers = parked.options?.headers;
      expect(headers?.get('Cinode-Dlq-Consumer')).toBe(FILING_CONSUMER);
      expect(headers?.get('Cinode-Dlq-Subject')).toBe(IDENTIFIER_EVENTS.issued);
      expect(headers?.get('Cinode-Dlq-Stream-Sequence')).toBe('42');
      expect(headers?.get('Cinode-Dlq-Error')).toBe(rejection.message.replace(/[\r\n]+/g, ' '));

      // A redelivery of the rejected filing does not ask the national node again.
      await deliver(consumer, identifiers, event, 4);
      expect(national.calls).toHaveLength(1);
      expect(nats.published).toHaveLength(1);
    },
  );

  it('does not call the national node again for a redelivered event of a filed identifier', async () => {
    const { consumer, identifiers, national, outbox } = subject(['NF3']);
    const entity = pending(identifiers);
    const event = issuedEvent(entity);

    await deliver(consumer, identifiers, event, 1);
    const afterFirst = identifiers.rows.get(entity.identifier);
    await deliver(consumer, identifiers, event, 2);

    expect(national.calls).toHaveLength(1);
    expect(identifiers.rows.get(entity.identifier)).toEqual(afterFirst);
    expect(identifiers.history).toHaveLength(1);
    expect(outbox.events).toHaveLength(1);
  });

  it.each([
    ['filed', { state: 'filed', filingNumber: 'NF1' }],
    ['suspended', { state: 'suspended', suspensionCause: 'operator', filingNumber: 'NF1' }],
    ['retired', { state: 'retired', filingNumber: 'NF1' }],
    ['retired after a rejected filing', { state: 'retired', filingError: 'rejected' }],
  ] as const)(
    'leaves a %s identifier alone without calling the national node',
    async (_what, overrides) => {
      const { consumer, identifiers, national, outbox } = subject();
      const entity = seedIdentifier(identifiers, usableSerial(1), overrides);
      await deliver(consumer, identifiers, issuedEvent(entity));
      expect(national.calls).toHaveLength(0);
      expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
      expect(outbox.events).toHaveLength(0);
    },
  );

  it('skips an event naming an identifier it does not hold', async () => {
    const { consumer, identifiers, national } = subject();
    const stranger = pending(identifiers);
    identifiers.rows.clear();
    await deliver(consumer, identifiers, issuedEvent(stranger));
    expect(national.calls).toHaveLength(0);
  });

  it('fails an event that carries no identifier', async () => {
    const { consumer, identifiers, national } = subject();
    const envelope = createEnvelope('identifier', {
      type: IDENTIFIER_EVENTS.issued,
      data: { nodeCode: 'R0001' },
    });
    const error = await rejectionOf(deliver(consumer, identifiers, envelope));
    expect(error).toBeInstanceOf(Error);
    expect(national.calls).toHaveLength(0);
  });

  it('retries, without recording anything, when the national node answers without a filing number', async () => {
    const { consumer, identifiers } = subject(['']);
    const entity = pending(identifiers);
    await rejectionOf(deliver(consumer, identifiers, issuedEvent(entity)));
    expect(identifiers.rows.get(entity.identifier)).toEqual(entity);
  });

  it('registers a durable consumer of issued events that never dead-letters and outwaits a national node call', async () => {
    const { consumer, registry } = subject();
    await consumer.onModuleInit();
    expect(registry.definitions).toHaveLength(1);
    const [definition] = registry.definitions;
    expect(definition).toMatchObject({
      name: FILING_CONSUMER,
      stream: 'IDENTIFIER',
      filterSubject: IDENTIFIER_EVENTS.issued,
      maxDeliver: Number.MAX_SAFE_INTEGER,
      backoff: { initialMs: 100, maxMs: 500 },
    });
    expect(definition.ackWaitMs).toBeGreaterThan(config.NATIONAL_NODE_TIMEOUT_MS);
  });
});
