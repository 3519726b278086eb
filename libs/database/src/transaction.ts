import { Logger } from '@nestjs/common';
import type { EventMessage } from '@cinode/contracts';
import { Client, type ClientConfig } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

/** Writes events into the outbox table inside a transaction; provided by @cinode/events. */
export interface OutboxWriter {
  write(manager: EntityManager, events: readonly EventMessage[]): Promise<unknown>;
}

/**
 * Extensions that other platform libraries attach to every transaction: the audit record written
 * before commit, the deadline that aborts a call's work. A hook may throw from `begin` or
 * `beforeCommit`; the transaction then rolls back and the error reaches the caller.
 */
export interface TransactionHook {
  /** Before the transaction starts; the returned function runs when it has ended either way. */
  begin?(control: TransactionControl): (() => Promise<void> | void) | void;
  /** Right after BEGIN, inside the transaction (e.g. to bound its statements); may throw. */
  started?(control: TransactionControl): Promise<void>;
  /** After the work, before COMMIT, inside the transaction. */
  beforeCommit?(tx: Tx): Promise<void>;
  /** After COMMIT succeeded. */
  afterCommit?(tx: Tx): void;
  /** After the transaction failed or rolled back (whatever it wrote is gone). */
  afterRollback?(tx: Tx): void;
}

/** What a hook may do to a running transaction. */
export interface TransactionControl {
  readonly tx: Tx;
  /**
   * Cancels the statement the transaction is running now (Postgres `pg_cancel_backend`), so work
   * cut off by a deadline stops at once instead of at its next statement. The transaction then
   * fails and rolls back; its connection goes back to the pool only after the cancel was sent.
   */
  cancelRunningStatement(): void;
}

/**
 * One database transaction as services and repositories see it. Repositories run their queries
 * through `manager`; services only pass the Tx along, emit events and never touch the manager.
 */
export class Tx {
  private readonly afterCommitCallbacks: (() => void | Promise<void>)[] = [];
  /** Set once a hook has acted on this transaction, e.g. the audit record written. */
  readonly marks = new Map<symbol, unknown>();
  /**
   * Id of the object this transaction changed, for its audit record when the request does not name
   * it: UnitOfWork.idempotentInsert sets it to what it created; a service may set it otherwise.
   */
  objectId: string | undefined;

  constructor(
    /** For repositories: the transaction's EntityManager. */
    readonly manager: EntityManager,
    private readonly outbox: OutboxWriter | undefined,
  ) {}

  /**
   * Adds events to the outbox in this transaction: they are published if and only if the change
   * commits. Build them with `eventOf(Contract, data)` from @cinode/contracts.
   */
  async emit(...events: EventMessage[]): Promise<void> {
    if (events.length === 0) return;
    if (!this.outbox)
      throw new Error('Tx.emit: this service has no outbox (EventsModule is not installed)');
    await this.outbox.write(this.manager, events);
  }

  /** Runs after a successful commit (e.g. dropping a cache); errors are logged, never thrown. */
  afterCommit(callback: () => void | Promise<void>): void {
    this.afterCommitCallbacks.push(callback);
  }

  /** @internal */
  async runAfterCommit(logger: Logger): Promise<void> {
    for (const callback of this.afterCommitCallbacks) {
      try {
        await callback();
      } catch (error) {
        logger.error({ err: error }, 'an after-commit callback failed');
      }
    }
  }
}

/** The pg backend process id of a TypeORM Postgres query runner's connection. */
export function backendPidOf(runner: QueryRunner): number | undefined {
  const connection = (runner as unknown as { databaseConnection?: { processID?: unknown } })
    .databaseConnection;
  return typeof connection?.processID === 'number' ? connection.processID : undefined;
}

/**
 * A short-lived connection of its own (never one from the pool, which a cancel must not wait for)
 * with the data source's connection settings.
 */
export function openSideConnection(
  dataSource: DataSource,
  applicationName: string,
  timeoutMs?: number,
  keepAlive = false,
): Client {
  const options = dataSource.options as PostgresConnectionOptions;
  return new Client({
    keepAlive,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: typeof options.password === 'string' ? options.password : undefined,
    database: options.database,
    ssl: options.ssl as ClientConfig['ssl'],
    application_name: applicationName,
  });
}

/** Cancels in flight at once, per process: an abort storm must not exhaust the server's connections. */
const MAX_CONCURRENT_CANCELS = 4;
let cancelsInFlight = 0;

/**
 * What became of a cancel: `sent` (Postgres answered), `not_sent` (skipped — too many in flight —
 * or no connection to send it over), or `unknown` (the request went out but no answer came back in
 * time: it may still arrive, so the connection it targets must not be reused).
 */
export type CancelOutcome = 'sent' | 'not_sent' | 'unknown';

/**
 * Sends pg_cancel_backend for one backend over a side connection: at most MAX_CONCURRENT_CANCELS
 * at once, each bounded in time (the statement timeout a call's transaction carries ends the
 * statement anyway; this only makes it sooner).
 */
export async function cancelBackend(dataSource: DataSource, pid: number): Promise<CancelOutcome> {
  if (cancelsInFlight >= MAX_CONCURRENT_CANCELS) return 'not_sent';
  cancelsInFlight++;
  const client = openSideConnection(dataSource, 'cinode-cancel', CANCEL_TIMEOUT_MS);
  client.on('error', () => undefined);
  let outcome: CancelOutcome = 'not_sent';
  try {
    await client.connect();
    outcome = 'unknown';
    await client.query('SELECT pg_cancel_backend($1)', [pid]);
    outcome = 'sent';
  } catch {
    // outcome says how far it got
  } finally {
    // Counted until the side connection is closed, and the close is bounded too.
    await Promise.race([client.end().catch(() => undefined), delay(CANCEL_TIMEOUT_MS)]);
    cancelsInFlight--;
  }
  return outcome;
}

const CANCEL_TIMEOUT_MS = 2_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
