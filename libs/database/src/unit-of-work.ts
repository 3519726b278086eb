import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AlreadyExistsError } from '@cinode/common';
import { asConflictError } from './sql-state';
import type { Pool, QueryResultRow } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { NotificationListener, type NotificationHandlers } from './notification-listener';
import {
  Tx,
  backendPidOf,
  cancelBackend,
  type OutboxWriter,
  type TransactionControl,
  type TransactionHook,
} from './transaction';

/**
 * What a retried request is recognised by. The scope is the caller (the token subject, or
 * `anonymous` for a call without a token): one caller's request ids never collide with another's.
 */
export interface IdempotencyKey {
  scope: string;
  requestId: string;
  /** The operation, e.g. `CreateParticipant`: the same request id on another operation is a reuse. */
  operation: string;
  /** `fingerprintOf(...)` the request's meaningful content. */
  fingerprint: string;
}

/** A retry: the first request created `objectId`; the caller answers with its current state. */
export interface RetriedOutcome {
  created: false;
  objectId: string;
}

export type IdempotentOutcome<T> = { created: true; result: T } | RetriedOutcome;

export const IdempotencyErrorReason = { REQUEST_ID_REUSED: 'REQUEST_ID_REUSED' } as const;

/** The scope (or its prefix) of callers without a token, whom nothing tells apart. */
export const ANONYMOUS_SCOPE = 'anonymous';

export interface RunOptions {
  isolation?: IsolationLevel;
}

export interface IdempotentInsertOptions extends RunOptions {
  /**
   * The error for a key already used for other content, given what the first request created;
   * default ALREADY_EXISTS with reason REQUEST_ID_REUSED. For keys that are natural keys of the
   * domain (the national node's node keys, identifiers, report ids) with reasons of their own.
   */
  conflict?: (objectId: string) => Error | Promise<Error>;
}

/** Gives the connection back to the pool, or has the pool destroy it when it may be unusable. */
async function releaseRunner(runner: QueryRunner, broken: Error | undefined): Promise<void> {
  // release() takes no error; the Postgres runner's releasePostgresConnection passes one on to pg's
  // pool release, which then ends the client instead of pooling it.
  const postgres = runner as unknown as {
    releasePostgresConnection?: (error?: Error) => Promise<void>;
  };
  if (broken && typeof postgres.releasePostgresConnection === 'function')
    await postgres.releasePostgresConnection(broken);
  else await runner.release();
}

/** A concurrent request with the same key committed first. */
class KeyTaken extends Error {}

/** Where other platform libraries plug into every transaction of the service. */
@Injectable()
export class TransactionExtensions {
  outbox: OutboxWriter | undefined;
  readonly hooks: TransactionHook[] = [];

  setOutbox(outbox: OutboxWriter): void {
    this.outbox = outbox;
  }

  addHook(hook: TransactionHook): void {
    this.hooks.push(hook);
  }
}

/**
 * The one way a service changes its database: `run(tx => ...)` is a transaction whose events
 * (`tx.emit`) commit with it, whose audit record (when the call is audited) is written in it, and
 * which a call's deadline rolls back. Repositories take the Tx as a parameter; services never see
 * an EntityManager.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger(UnitOfWork.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly extensions: TransactionExtensions,
  ) {}

  /** The manager for a repository query: the transaction's, or the pool's for a plain read. */
  manager(tx?: Tx): EntityManager {
    return tx ? tx.manager : this.dataSource.manager;
  }

  /**
   * One read statement straight on the pool, for hot read paths: no ORM query runner around it,
   * and prepared once per connection under `name` (Postgres parses and plans it once). Like any
   * plain read it runs under the pool's statement_timeout, outside a transaction. A name belongs to
   * one statement text for the life of the pool (Postgres keeps the plan per connection): name it
   * after what it reads, and give a changed statement a new name.
   */
  async read<R extends QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<R[]> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    return (await pool.query<R>({ name, text, values })).rows;
  }

  /**
   * A listener for NOTIFY on `channel` over a connection of its own, checked every `heartbeatMs`;
   * start() and stop() it.
   */
  listen(
    channel: string,
    heartbeatMs: number,
    handlers: NotificationHandlers,
  ): NotificationListener {
    return new NotificationListener(this.dataSource, channel, handlers, heartbeatMs);
  }

  async run<T>(work: (tx: Tx) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    const tx = new Tx(runner.manager, this.extensions.outbox);
    const cleanups: (() => Promise<void> | void)[] = [];
    let cancelling: Promise<void> | undefined;
    /** A connection whose ROLLBACK failed is not given back to the pool (it may be mid-transaction). */
    let broken: Error | undefined;
    const control: TransactionControl = {
      tx,
      cancelRunningStatement: () => {
        const pid = backendPidOf(runner);
        if (pid === undefined || cancelling || !runner.isTransactionActive) return;
        cancelling = cancelBackend(this.dataSource, pid).then((outcome) => {
          // A cancel that may still arrive would hit the next statement on this connection.
          if (outcome === 'unknown')
            broken = new Error('a cancel of its statement may still arrive');
        });
      },
    };
    try {
      for (const hook of this.extensions.hooks) {
        const cleanup = hook.begin?.(control);
        if (cleanup) cleanups.push(cleanup);
      }
      await runner.connect();
      await runner.startTransaction(options.isolation);
      for (const hook of this.extensions.hooks) await hook.started?.(control);
      const result = await work(tx);
      for (const hook of this.extensions.hooks) await hook.beforeCommit?.(tx);
      await runner.commitTransaction();
      for (const hook of this.extensions.hooks) hook.afterCommit?.(tx);
      await tx.runAfterCommit(this.logger);
      return result;
    } catch (error) {
      // The cancel lands before the ROLLBACK, never on it.
      await cancelling;
      if (runner.isTransactionActive) {
        await runner.rollbackTransaction().catch((rollbackError: unknown) => {
          broken =
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
          this.logger.warn({ err: rollbackError }, 'rollback failed; the connection is discarded');
        });
      }
      // Whatever the transaction wrote is gone, the records hooks kept of it too.
      for (const hook of this.extensions.hooks) hook.afterRollback?.(tx);
      throw asConflictError(error);
    } finally {
      for (const cleanup of cleanups) await cleanup();
      // A cancel still in flight must not reach the next user of this pooled connection.
      await cancelling;
      await releaseRunner(runner, broken);
    }
  }

  /**
   * Creates something at most once per idempotency key. The key row is inserted first, in the
   * creating transaction, so a concurrent retry waits for the first to commit and then finds it.
   * A retry with the same content answers `{ created: false, objectId }`; the same request id with
   * other content (or for another operation) fails ALREADY_EXISTS, reason REQUEST_ID_REUSED. A
   * request that fails leaves no key, so it may be retried as it was. Without a key (`undefined`,
   * the caller sent no request id) it just creates.
   */
  async idempotentInsert<T>(
    key: IdempotencyKey | undefined,
    create: (tx: Tx) => Promise<{ result: T; objectId: string }>,
    options: IdempotentInsertOptions = {},
  ): Promise<IdempotentOutcome<T>> {
    if (!key) {
      const created = await this.run(async (tx) => {
        const outcome = await create(tx);
        tx.objectId ??= outcome.objectId;
        return outcome;
      }, options);
      return { created: true, result: created.result };
    }
    const earlier = await this.findKey(key);
    if (earlier) return this.retried(key, earlier, options);
    try {
      const outcome = await this.run(async (tx) => {
        const inserted = await tx.manager.query<unknown[]>(
          `INSERT INTO idempotency_key (scope, request_id, operation, fingerprint, created_at)
           VALUES ($1, $2, $3, $4, now()) ON CONFLICT (scope, request_id) DO NOTHING RETURNING scope`,
          [key.scope, key.requestId, key.operation, key.fingerprint],
        );
        // Rolled back, not committed: this transaction must not count as a change (nor be audited as one).
        if (inserted.length === 0) throw new KeyTaken();
        const created = await create(tx);
        tx.objectId ??= created.objectId;
        await tx.manager.query(
          `UPDATE idempotency_key SET object_id = $3 WHERE scope = $1 AND request_id = $2`,
          [key.scope, key.requestId, created.objectId],
        );
        return created;
      }, options);
      return { created: true, result: outcome.result };
    } catch (error) {
      if (!(error instanceof KeyTaken)) throw error;
    }
    const winner = await this.findKey(key);
    if (!winner)
      throw new Error(`idempotency key ${key.scope}/${key.requestId} conflicted but is missing`);
    return this.retried(key, winner, options);
  }

  /**
   * The outcome of an earlier request with this key, if there was one (REQUEST_ID_REUSED when it
   * was a different request): for operations that must call out before their insert, so a retry
   * answers from what was stored instead of calling out again.
   */
  async priorOutcome(
    key: IdempotencyKey,
    options: IdempotentInsertOptions = {},
  ): Promise<RetriedOutcome | undefined> {
    const earlier = await this.findKey(key);
    return earlier ? this.retried(key, earlier, options) : undefined;
  }

  private findKey(key: IdempotencyKey): Promise<IdempotencyKeyEntity | null> {
    return this.dataSource
      .getRepository(IdempotencyKeyEntity)
      .findOneBy({ scope: key.scope, requestId: key.requestId });
  }

  private async retried(
    key: IdempotencyKey,
    stored: IdempotencyKeyEntity,
    options: IdempotentInsertOptions,
  ): Promise<RetriedOutcome> {
    // A key carried over from before fingerprints were kept matches on the operation alone, but
    // never in the scope callers without a token share: there it could answer a stranger.
    const same =
      stored.operation === key.operation &&
      (stored.fingerprint === key.fingerprint ||
        (stored.fingerprint === null && !key.scope.startsWith(ANONYMOUS_SCOPE)));
    if (!same || stored.objectId === null) {
      if (options.conflict && stored.objectId !== null)
        throw await options.conflict(stored.objectId);
      throw new AlreadyExistsError(
        IdempotencyErrorReason.REQUEST_ID_REUSED,
        `request_id ${key.requestId} was already used for a different request`,
        { metadata: { operation: stored.operation } },
      );
    }
    return { created: false, objectId: stored.objectId };
  }
}
