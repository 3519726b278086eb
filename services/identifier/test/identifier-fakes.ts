import { UnavailableError } from '@cinode/common';
import type { Caller, Role } from '@cinode/auth';
import type { EventEnvelope, NewEvent, OutboxPublisher } from '@cinode/events';
import type { EntityManager } from 'typeorm';
import { formatIdentifier, isUsableSerial } from '../src/format/identifier-format';
import type { IdentifierStateName } from '../src/identifiers/identifier-lifecycle';
import type { IdentifierTransitionEntity } from '../src/identifiers/identifier-transition.entity';
import type { IdentifierEntity } from '../src/identifiers/identifier.entity';
import type {
  IdentifierFilter,
  IdentifierPatch,
  IdentifiersRepository,
  NewTransition,
} from '../src/identifiers/identifiers.repository';
import { IdentifiersService } from '../src/identifiers/identifiers.service';
import type { NodeIdentity, NodeRegistrationService } from '../src/node/node-registration.service';
import type { ParticipantProjectionEntity } from '../src/participants/participant.entity';
import type { ParticipantsRepository } from '../src/participants/participants.repository';

/** Unit-test doubles for IdentifiersService's collaborators: in-memory, no database, no NATS. */

/** Stands in for a transaction's EntityManager; fakes only compare it by identity. */
class FakeTransaction {
  constructor(readonly id: number) {}
}

export function fakeManager(id = 0): EntityManager {
  return new FakeTransaction(id) as unknown as EntityManager;
}

function clone(entity: IdentifierEntity): IdentifierEntity {
  return { ...entity, attributes: { ...entity.attributes } };
}

/**
 * In-memory IdentifiersRepository. `inTransaction` rolls every write back when the work throws, so a
 * test sees what a real transaction would have committed. Reads return copies, like rows from a DB.
 */
export class FakeIdentifiersRepository {
  rows = new Map<string, IdentifierEntity>();
  history: IdentifierTransitionEntity[] = [];
  /** Serials nextSerial hands out, in order; afterwards it counts up from the last one. */
  serials: number[] = [];
  private lastSerial = 0;
  private transactions = 0;
  /** Managers of the transactions opened, in order. */
  managers: EntityManager[] = [];
  /** Before the next insert, pretend a concurrent call committed this row first. */
  concurrentWinner: IdentifierEntity | undefined;

  async inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const manager = fakeManager(++this.transactions);
    this.managers.push(manager);
    const rows = new Map([...this.rows].map(([k, v]) => [k, clone(v)]));
    const history = [...this.history];
    const lastSerial = this.lastSerial;
    try {
      return await work(manager);
    } catch (error) {
      this.rows = rows;
      this.history = history;
      this.lastSerial = lastSerial;
      throw error;
    }
  }

  async nextSerial(): Promise<number> {
    this.lastSerial = this.serials.shift() ?? this.lastSerial + 1;
    return this.lastSerial;
  }

  async insertIfAbsent(_manager: EntityManager, entity: IdentifierEntity): Promise<boolean> {
    if (this.concurrentWinner) {
      this.rows.set(this.concurrentWinner.identifier, clone(this.concurrentWinner));
      this.concurrentWinner = undefined;
    }
    const taken =
      entity.idempotencyKey !== null &&
      [...this.rows.values()].some((row) => row.idempotencyKey === entity.idempotencyKey);
    if (taken || this.rows.has(entity.identifier)) return false;
    this.rows.set(entity.identifier, clone(entity));
    return true;
  }

  async findByIdempotencyKey(key: string): Promise<IdentifierEntity | undefined> {
    const row = [...this.rows.values()].find((r) => r.idempotencyKey === key);
    return row && clone(row);
  }

  async find(identifier: string): Promise<IdentifierEntity | undefined> {
    const row = this.rows.get(identifier);
    return row && clone(row);
  }

  async findForUpdate(
    _manager: EntityManager,
    identifier: string,
  ): Promise<IdentifierEntity | undefined> {
    return this.find(identifier);
  }

  async findOwnedForUpdate(
    _manager: EntityManager,
    ownerParticipantId: string,
    state: IdentifierStateName,
    causes?: string[],
  ): Promise<IdentifierEntity[]> {
    return [...this.rows.values()]
      .filter(
        (r) =>
          r.ownerParticipantId === ownerParticipantId &&
          r.state === state &&
          (!causes || (r.suspensionCause !== null && causes.includes(r.suspensionCause))),
      )
      .sort((a, b) => a.serial - b.serial)
      .map(clone);
  }

  async update(_manager: EntityManager, identifier: string, patch: IdentifierPatch): Promise<void> {
    const row = this.rows.get(identifier);
    if (row) this.rows.set(identifier, { ...row, ...patch });
  }

  async addTransitions(_manager: EntityManager, transitions: NewTransition[]): Promise<void> {
    for (const t of transitions) this.history.push({ ...t, id: String(this.history.length + 1) });
  }

  async transitions(identifier: string): Promise<IdentifierTransitionEntity[]> {
    return this.history.filter((t) => t.identifier === identifier);
  }

  /** Records every call, so tests can check the filter the service asked for. */
  listCalls: { filter: IdentifierFilter; limit: number; afterSerial: number | undefined }[] = [];

  async list(
    filter: IdentifierFilter,
    limit: number,
    afterSerial: number | undefined,
  ): Promise<IdentifierEntity[]> {
    this.listCalls.push({ filter, limit, afterSerial });
    return [...this.rows.values()]
      .filter(
        (r) =>
          (!filter.ownerParticipantId || r.ownerParticipantId === filter.ownerParticipantId) &&
          (!filter.objectType || r.objectType === filter.objectType) &&
          (!filter.state || r.state === filter.state) &&
          (afterSerial === undefined || r.serial > afterSerial),
      )
      .sort((a, b) => a.serial - b.serial)
      .slice(0, limit + 1)
      .map(clone);
  }
}

export class FakeParticipantsRepository {
  rows = new Map<string, ParticipantProjectionEntity>();

  set(participantId: string, state: string): void {
    this.rows.set(participantId, {
      participantId,
      kind: 'compute_provider',
      state,
      eventTime: new Date(),
      eventId: '00000000-0000-0000-0000-000000000000',
    });
  }

  async find(participantId: string): Promise<ParticipantProjectionEntity | undefined> {
    return this.rows.get(participantId);
  }
}

export interface EnqueuedEvent {
  manager: EntityManager;
  type: string;
  data: unknown;
}

export class FakeOutbox {
  events: EnqueuedEvent[] = [];

  async enqueue<T>(manager: EntityManager, event: NewEvent<T>): Promise<EventEnvelope<T>> {
    const [envelope] = await this.enqueueMany(manager, [event]);
    return envelope;
  }

  async enqueueMany<T>(manager: EntityManager, events: NewEvent<T>[]): Promise<EventEnvelope<T>[]> {
    return events.map((event) => {
      this.events.push({ manager, type: event.type, data: event.data });
      return {
        id: `event-${this.events.length}`,
        type: event.type,
        time: new Date().toISOString(),
        source: 'identifier',
        schemaVersion: 1,
        data: event.data,
      };
    });
  }
}

export class FakeNode {
  constructor(public identity: NodeIdentity | undefined) {}

  require(): NodeIdentity {
    if (this.identity) return this.identity;
    throw new UnavailableError('NODE_NOT_REGISTERED', 'not registered');
  }

  current(): NodeIdentity | undefined {
    return this.identity;
  }
}

export const NODE_PREFIX = 'CN.R0001';

export function caller(subject: string, roles: Role[], tenant = subject): Caller {
  return {
    subject,
    roles,
    tenant,
    tokenId: `token-${subject}`,
    expiresAt: new Date(Date.now() + 60_000),
  };
}

export interface ServiceUnderTest {
  service: IdentifiersService;
  identifiers: FakeIdentifiersRepository;
  participants: FakeParticipantsRepository;
  outbox: FakeOutbox;
  node: FakeNode;
}

export function identifiersService(): ServiceUnderTest {
  const identifiers = new FakeIdentifiersRepository();
  const participants = new FakeParticipantsRepository();
  const outbox = new FakeOutbox();
  const node = new FakeNode({ nodeCode: 'R0001', identifierPrefix: NODE_PREFIX });
  const service = new IdentifiersService(
    identifiers as unknown as IdentifiersRepository,
    participants as unknown as ParticipantsRepository,
    node as unknown as NodeRegistrationService,
    outbox as unknown as OutboxPublisher,
  );
  return { service, identifiers, participants, outbox, node };
}

/** Stores an identifier directly, as if issued earlier, in the given state. */
export function seedIdentifier(
  identifiers: FakeIdentifiersRepository,
  serial: number,
  overrides: Partial<IdentifierEntity> = {},
): IdentifierEntity {
  const issuedAt = new Date('2026-01-02T03:04:05.678Z');
  const entity: IdentifierEntity = {
    identifier: formatIdentifier(NODE_PREFIX, 'RP', serial),
    serial,
    nodeCode: 'R0001',
    objectType: 'RP',
    objectName: 'GPU pool',
    ownerParticipantId: 'prov-a',
    ownerName: 'Example Cloud Ltd.',
    ownerCreditCode: '91310000MA1FL0000X',
    attributes: { region: 'east' },
    state: 'filed',
    suspensionCause: null,
    filingNumber: 'NF00000000000001',
    filingError: null,
    filedAt: issuedAt,
    issuedBy: 'prov-a',
    issuedAt,
    stateChangedAt: issuedAt,
    idempotencyKey: null,
    ...overrides,
  };
  identifiers.rows.set(entity.identifier, clone(entity));
  return entity;
}

/** The first serial at or after `from` that the allocator may use (for RP under NODE_PREFIX). */
export function usableSerial(from: number): number {
  let serial = from;
  while (!isUsableSerial(NODE_PREFIX, 'RP', serial)) serial++;
  return serial;
}

/** The first serial at or after `from` that the allocator must skip (check value 36). */
export function unusableSerial(from: number): number {
  let serial = from;
  while (isUsableSerial(NODE_PREFIX, 'RP', serial)) serial++;
  return serial;
}
