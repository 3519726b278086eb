import { AlreadyExistsError } from '@cinode/common';
import type { EventMessage } from '@cinode/contracts';
import type {
  IdempotencyKey,
  IdempotentInsertOptions,
  IdempotentOutcome,
  RetriedOutcome,
  Tx,
  UnitOfWork,
} from '@cinode/database';

/** An in-memory fake whose state a FakeUnitOfWork rolls back when the work fails. */
export interface Transactional {
  snapshot(): unknown;
  restore(snapshot: unknown): void;
}

interface StoredKey {
  operation: string;
  fingerprint: string;
  objectId: string;
}

/**
 * UnitOfWork for unit tests: runs the work with a Tx whose `emit` collects events, and on failure
 * restores every registered fake to where it was and drops the events, like a rollback. Keys of
 * `idempotentInsert` behave as the real table does (same caller + request id: a retry; other
 * content: REQUEST_ID_REUSED).
 */
export class FakeUnitOfWork {
  /** Events of committed units of work, in order. */
  readonly events: EventMessage[] = [];
  readonly keys = new Map<string, StoredKey>();
  private readonly fakes: Transactional[];

  constructor(...fakes: Transactional[]) {
    this.fakes = fakes;
  }

  /** Typed as the real one, for constructors that take a UnitOfWork. */
  get asUnitOfWork(): UnitOfWork {
    return this as unknown as UnitOfWork;
  }

  manager(): never {
    throw new Error('FakeUnitOfWork has no EntityManager: fake the repository instead');
  }

  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const snapshots = this.fakes.map((fake) => fake.snapshot());
    const staged: EventMessage[] = [];
    const tx = {
      emit: async (...events: EventMessage[]) => void staged.push(...events),
      afterCommit: () => undefined,
      marks: new Map(),
      objectId: undefined as string | undefined,
    } as unknown as Tx;
    try {
      const result = await work(tx);
      this.events.push(...staged);
      return result;
    } catch (error) {
      this.fakes.forEach((fake, i) => fake.restore(snapshots[i]));
      throw error;
    }
  }

  /** As the real one: the stored outcome of an earlier request with the key, if any. */
  async priorOutcome(
    key: IdempotencyKey,
    options: IdempotentInsertOptions = {},
  ): Promise<RetriedOutcome | undefined> {
    const stored = this.keys.get(`${key.scope}\u0000${key.requestId}`);
    if (!stored) return undefined;
    if (stored.operation !== key.operation || stored.fingerprint !== key.fingerprint) {
      if (options.conflict) throw await options.conflict(stored.objectId);
      throw new AlreadyExistsError(
        'REQUEST_ID_REUSED',
        `request_id ${key.requestId} was already used for a different request`,
        { metadata: { operation: stored.operation } },
      );
    }
    return { created: false, objectId: stored.objectId };
  }

  async idempotentInsert<T>(
    key: IdempotencyKey | undefined,
    create: (tx: Tx) => Promise<{ result: T; objectId: string }>,
    options: IdempotentInsertOptions = {},
  ): Promise<IdempotentOutcome<T>> {
    const id = key ? `${key.scope}\u0000${key.requestId}` : undefined;
    const prior = key ? await this.priorOutcome(key, options) : undefined;
    if (prior) return prior;
    const created = await this.run(create);
    if (key && id)
      this.keys.set(id, {
        operation: key.operation,
        fingerprint: key.fingerprint,
        objectId: created.objectId,
      });
    return { created: true, result: created.result };
  }

  /** Data of the committed events of one type. */
  dataOf<D = unknown>(type: string): D[] {
    return this.events.filter((e) => e.type === type).map((e) => e.data as D);
  }
}

/**
 * A deep copy of a row: plain objects, arrays and Dates. (structuredClone would do, but under Jest
 * its Dates belong to another realm and fail `toBeInstanceOf(Date)`.)
 */
export function cloneRow<T>(value: T): T {
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => cloneRow(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, cloneRow(v)]),
    ) as T;
  }
  return value;
}

/** A map-backed store that FakeUnitOfWork can roll back. */
export class FakeTable<K, V> implements Transactional {
  rows = new Map<K, V>();

  snapshot(): unknown {
    return new Map([...this.rows].map(([k, v]) => [k, cloneRow(v)]));
  }

  restore(snapshot: unknown): void {
    this.rows = snapshot as Map<K, V>;
  }

  values(): V[] {
    return [...this.rows.values()];
  }
}
