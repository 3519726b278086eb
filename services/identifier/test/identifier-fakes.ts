import type { Caller, Role } from '@cinode/auth';
import { UnavailableError } from '@cinode/common';
import {
  parseEvent,
  type EventContract,
  type EventMessage,
  type EventSource,
  type ParticipantKindName,
  type ParticipantStateName,
} from '@cinode/contracts';
import type { Tx } from '@cinode/database';
import { createEnvelope, type EventHandler } from '@cinode/events';
import { FakeUnitOfWork, type Transactional } from '@cinode/testing';
import { formatIdentifier, isUsableSerial } from '../src/format/identifier-format';
import type {
  IdentifierStateName,
  SuspensionCauseName,
} from '../src/identifiers/identifier-states';
import type { IdentifierTransitionEntity } from '../src/identifiers/identifier-transition.entity';
import type { IdentifierEntity } from '../src/identifiers/identifier.entity';
import type {
  IdentifierFilter,
  IdentifierPatch,
  IdentifierRecord,
  IdentifiersRepository,
  NewTransition,
} from '../src/identifiers/identifiers.repository';
import { IdentifierLifecycle } from '../src/lifecycle/identifier-lifecycle.service';
import type { NodeIdentity, NodeRegistrationService } from '../src/node/node-registration.service';
import type { ParticipantProjectionEntity } from '../src/participants/participant-projection.entity';
import type { ParticipantsRepository } from '../src/participants/participants.repository';

/**
 * Unit-test doubles of the identifier service's repositories: in memory, no database, no NATS.
 * FakeUnitOfWork rolls them back when a unit of work fails, so a test sees what a real transaction
 * would have committed. Reads return copies, like rows from a database.
 */

function clone(entity: IdentifierEntity): IdentifierEntity {
  return { ...entity, attributes: { ...entity.attributes } };
}

export class FakeIdentifiersRepository implements Transactional {
  rows = new Map<string, IdentifierEntity>();
  history: IdentifierTransitionEntity[] = [];
  /** Serials nextSerial hands out, in order; afterwards it counts up from the last one. */
  serials: number[] = [];
  private lastSerial = 0;
  /** Every list() call, so tests can check the filter the service asked for. */
  listCalls: { filter: IdentifierFilter; limit: number; afterSerial: number | undefined }[] = [];

  get asRepository(): IdentifiersRepository {
    return this as unknown as IdentifiersRepository;
  }

  snapshot(): unknown {
    return {
      rows: new Map([...this.rows].map(([k, v]) => [k, clone(v)])),
      history: [...this.history],
    };
  }

  restore(snapshot: unknown): void {
    ({ rows: this.rows, history: this.history } = snapshot as {
      rows: Map<string, IdentifierEntity>;
      history: IdentifierTransitionEntity[];
    });
  }

  // Like a database sequence, serials drawn by a failed transaction stay used.
  async nextSerial(_tx: Tx): Promise<number> {
    this.lastSerial = this.serials.shift() ?? this.lastSerial + 1;
    return this.lastSerial;
  }

  async insert(_tx: Tx, entity: IdentifierEntity): Promise<void> {
    if (this.rows.has(entity.identifier)) throw new Error(`duplicate key ${entity.identifier}`);
    this.rows.set(entity.identifier, clone(entity));
  }

  async find(identifier: string): Promise<IdentifierEntity | undefined> {
    const row = this.rows.get(identifier);
    return row && clone(row);
  }

  findForUpdate(_tx: Tx, identifier: string): Promise<IdentifierEntity | undefined> {
    return this.find(identifier);
  }

  async findOwnedForUpdate(
    _tx: Tx,
    ownerParticipantId: string,
    state: IdentifierStateName,
    causes?: readonly SuspensionCauseName[],
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

  async update(_tx: Tx, identifier: string, patch: IdentifierPatch): Promise<void> {
    const row = this.rows.get(identifier);
    if (row) this.rows.set(identifier, { ...row, ...patch });
  }

  async addTransitions(_tx: Tx, transitions: NewTransition[]): Promise<void> {
    for (const t of transitions) this.history.push({ ...t, id: String(this.history.length + 1) });
  }

  async transitions(identifier: string): Promise<IdentifierTransitionEntity[]> {
    return this.history.filter((t) => t.identifier === identifier);
  }

  async findRecord(identifier: string): Promise<IdentifierRecord | undefined> {
    const entity = await this.find(identifier);
    return entity && this.record(entity);
  }

  async record(entity: IdentifierEntity): Promise<IdentifierRecord> {
    return { entity, transitions: await this.transitions(entity.identifier) };
  }

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

export const LEGAL_NAME = 'Example Cloud Ltd.';
export const CREDIT_CODE = '91310000MA1FL0000X';

export class FakeParticipantsRepository implements Transactional {
  rows = new Map<string, ParticipantProjectionEntity>();

  get asRepository(): ParticipantsRepository {
    return this as unknown as ParticipantsRepository;
  }

  snapshot(): unknown {
    return new Map([...this.rows].map(([k, v]) => [k, { ...v }]));
  }

  restore(snapshot: unknown): void {
    this.rows = snapshot as Map<string, ParticipantProjectionEntity>;
  }

  /** Projects a participant as its events would have: certified name and code by default. */
  set(
    participantId: string,
    state: ParticipantStateName,
    overrides: Partial<ParticipantProjectionEntity> = {},
  ): void {
    const kind: ParticipantKindName = 'COMPUTE_PROVIDER';
    this.rows.set(participantId, {
      participantId,
      version: (this.rows.get(participantId)?.version ?? 0) + 1,
      kind,
      state,
      legalName: LEGAL_NAME,
      creditCode: CREDIT_CODE,
      eventId: '00000000-0000-7000-8000-000000000000',
      ...overrides,
    });
  }

  async find(participantId: string): Promise<ParticipantProjectionEntity | undefined> {
    const row = this.rows.get(participantId);
    return row && { ...row };
  }

  async lockShared(
    _tx: Tx,
    participantId: string,
  ): Promise<ParticipantProjectionEntity | undefined> {
    return this.find(participantId);
  }

  async applyIfNewer(_tx: Tx, row: ParticipantProjectionEntity): Promise<boolean> {
    const stored = this.rows.get(row.participantId);
    if (stored && stored.version >= row.version) return false;
    this.rows.set(row.participantId, { ...row });
    return true;
  }
}

export class FakeNode {
  constructor(public identity: NodeIdentity | undefined) {}

  get asService(): NodeRegistrationService {
    return this as unknown as NodeRegistrationService;
  }

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

/** The repositories, the unit of work over them, and the lifecycle primitive every feature shares. */
export interface Fakes {
  identifiers: FakeIdentifiersRepository;
  participants: FakeParticipantsRepository;
  uow: FakeUnitOfWork;
  node: FakeNode;
  lifecycle: IdentifierLifecycle;
}

export function fakes(): Fakes {
  const identifiers = new FakeIdentifiersRepository();
  const participants = new FakeParticipantsRepository();
  return {
    identifiers,
    participants,
    uow: new FakeUnitOfWork(identifiers, participants),
    node: new FakeNode({ nodeCode: 'R0001', identifierPrefix: NODE_PREFIX }),
    lifecycle: new IdentifierLifecycle(identifiers.asRepository),
  };
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
    ownerName: LEGAL_NAME,
    ownerCreditCode: CREDIT_CODE,
    attributes: { region: 'east' },
    state: 'filed',
    suspensionCause: null,
    filingNumber: 'NF00000000000001',
    filingError: null,
    filedAt: issuedAt,
    issuedBy: 'prov-a',
    issuedAt,
    stateChangedAt: issuedAt,
    version: 2,
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

/** What a handler did with its delivery besides its transaction: the reasons it parked it for. */
export interface Delivery {
  deadLettered: string[];
}

/**
 * Delivers an event to a consumer's handler the way the platform's EventConsumer does: parsed
 * against the source's contracts, in one unit of work that commits when the handler returns and
 * rolls back when it throws.
 */
export async function deliver<E extends EventContract>(
  uow: FakeUnitOfWork,
  source: EventSource<E>,
  handle: EventHandler<E>,
  message: EventMessage,
  deliveryCount = 1,
): Promise<Delivery> {
  const event = parseEvent(source, message);
  if (!event) throw new Error(`${message.type} is not an event of this source`);
  const delivery: Delivery = { deadLettered: [] };
  const envelope = createEnvelope('test', message);
  await uow.run((tx) =>
    handle(event, {
      tx,
      envelope,
      deliveryCount,
      subject: message.type,
      streamSequence: 42,
      deadLetter: async (reason) => void delivery.deadLettered.push(reason),
    }),
  );
  return delivery;
}
