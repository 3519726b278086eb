import { Inject, Injectable, Logger } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Caller } from '@cinode/auth';
import { sanitizeText, uuidv7 } from '@cinode/common';
import { UnitOfWork, sqlStateOf, type Tx } from '@cinode/database';
import { describeError } from '@cinode/grpc';
import type { EntityManager } from 'typeorm';
import { AuditRecordEntity } from './audit-record.entity';
import { valueAt, type AuditRule } from './audited.decorator';

/**
 * Tries of a record written on its own before it is reported lost: about 13 s in all, waits
 * doubling from 200 ms to at most 2 s. A loaded machine keeps the pool busy for seconds (the
 * audit-completeness e2e lost records with 3 s while a type check ran beside it).
 */
const INSERT_ATTEMPTS = 10;
const INSERT_RETRY_MAX_MS = 2_000;

/** Injection token of the service name the trail records. */
export const AUDIT_SERVICE_NAME = Symbol('AUDIT_SERVICE_NAME');

export interface AuditedCallStart {
  method: string;
  rule: AuditRule;
  request: unknown;
  peer: string;
  traceId: string;
  startedAt: Date;
}

export type CallResult = { ok: true; response: unknown } | { ok: false; error: unknown };

/**
 * A caller-controlled string made safe to store: control characters (NUL above all, which Postgres
 * refuses — an insert failing on one would erase the record of a hostile call) and lone surrogates
 * replaced, cut to `max` characters.
 */
const clip = sanitizeText;

/**
 * The audit record of one call. The first unit of work that commits during the call writes it
 * (outcome OK, committed) in its own transaction; when the call has settled, `settle` records the
 * outcome: nothing more for a success recorded that way, a settlement record (the real outcome,
 * naming the first record) for a committed call that failed afterwards, and a record of its own
 * (committed false) for a call that changed nothing — a refusal, a validation error, a retry
 * answered from the first result, or work its deadline rolled back. Records are never changed.
 */
export class AuditedCall {
  caller: Caller | undefined;
  private recordedId: string | undefined;
  /** The record a running transaction is writing; another concurrent one must not write a second. */
  private claimedId: string | undefined;
  /** The object the record written in a transaction names (its settlement names it too). */
  private recordedObjectId: string | undefined;

  constructor(
    private readonly trail: AuditTrail,
    readonly start: AuditedCallStart,
  ) {}

  get recorded(): boolean {
    return this.recordedId !== undefined;
  }

  /** Inside the transaction, before COMMIT; returns the record id to confirm after commit. */
  async writeInTransaction(tx: Tx): Promise<string | undefined> {
    if (this.recordedId || this.claimedId) return undefined;
    // A transaction that wrote nothing (only read) is no change: the call's own record says so.
    const [{ wrote }] = await tx.manager.query<{ wrote: boolean }[]>(
      `SELECT txid_current_if_assigned() IS NOT NULL AS wrote`,
    );
    if (!wrote) return undefined;
    const record = this.record({ outcome: 'OK', reason: '', committed: true }, tx.objectId);
    this.claimedId = record.id;
    this.recordedObjectId = record.objectId;
    try {
      await this.trail.insert(tx.manager, record);
    } catch (error) {
      this.claimedId = undefined;
      throw error;
    }
    return record.id;
  }

  /** After the transaction that wrote the record committed. */
  confirm(recordId: string): void {
    if (this.claimedId !== recordId) return;
    this.recordedId = recordId;
    this.claimedId = undefined;
  }

  /** After the transaction that wrote the record rolled back: the record is gone with it. */
  release(recordId: string): void {
    if (this.claimedId === recordId) this.claimedId = undefined;
  }

  async settle(result: CallResult): Promise<void> {
    const { code, reason } = result.ok
      ? { code: GrpcStatus.OK, reason: '' }
      : describeError(result.error);
    const outcome = GrpcStatus[code] ?? String(code);
    if (this.recordedId) {
      // The trail is append-only: the real outcome of a call that committed is a record of its
      // own, naming the first.
      if (!result.ok)
        await this.trail.insert(
          undefined,
          this.record({ outcome, reason, committed: true }, this.recordedObjectId, this.recordedId),
        );
      return;
    }
    const fromResponse =
      result.ok && this.start.rule.responsePath
        ? valueAt(result.response, this.start.rule.responsePath)
        : '';
    // A record of a call that changed nothing names the object from the answer when it has one.
    await this.trail.insert(
      undefined,
      this.record({ outcome, reason, committed: false }, fromResponse || undefined),
    );
  }

  private record(
    result: { outcome: string; reason: string; committed: boolean },
    changedObjectId: string | undefined,
    settlesId: string | null = null,
  ): AuditRecordEntity {
    const { rule, request } = this.start;
    // What the work reports it changed wins over the caller's spelling of it in the request.
    const objectId =
      changedObjectId ?? (rule.requestPath === 'created' ? '' : valueAt(request, rule.requestPath));
    const record = new AuditRecordEntity();
    Object.assign(record, {
      id: uuidv7(),
      service: this.trail.service,
      method: clip(this.start.method, 200),
      objectType: rule.objectType,
      objectId: clip(objectId, 128),
      actor: clip(this.caller?.subject ?? '', 128),
      actorRoles: clip(this.caller?.roles.join(',') ?? '', 200),
      tenant: clip(this.caller?.tenant ?? '', 128),
      requestId: clip(valueAt(request, 'requestId'), 128),
      peer: clip(this.start.peer, 128),
      outcome: result.outcome,
      reason: clip(result.reason, 100),
      committed: result.committed,
      occurredAt: this.start.startedAt,
      durationMs: Math.max(0, Date.now() - this.start.startedAt.getTime()),
      traceId: this.start.traceId,
      settlesId,
      chainPosition: null,
      chainHash: null,
    });
    return record;
  }
}

/** Writes a service's audit records. */
@Injectable()
export class AuditTrail {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly uow: UnitOfWork,
    @Inject(AUDIT_SERVICE_NAME) readonly service: string,
  ) {}

  begin(start: AuditedCallStart): AuditedCall {
    return new AuditedCall(this, start);
  }

  /** In the given transaction, or on its own when `manager` is undefined. */
  async insert(manager: EntityManager | undefined, record: AuditRecordEntity): Promise<void> {
    if (manager) {
      await manager.getRepository(AuditRecordEntity).insert(record);
      return;
    }
    // On its own (a refusal, a settlement): a busy pool or a dropped connection must not lose
    // the record, so a failure the database did not judge (no SQL state of a data, constraint or
    // syntax error) is tried again, a few times, a little later each time.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.uow.manager().getRepository(AuditRecordEntity).insert(record);
        return;
      } catch (error) {
        const state = sqlStateOf(error) ?? '';
        if (attempt >= INSERT_ATTEMPTS || /^(22|23|42)/.test(state)) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(INSERT_RETRY_MAX_MS, 100 * 2 ** attempt)),
        );
      }
    }
  }

  /** A record that could not be written must be loud in the log: the call's outcome stands. */
  reportLost(error: unknown, start: AuditedCallStart): void {
    this.logger.error(
      { err: error, method: start.method, traceId: start.traceId },
      'could not write the audit record',
    );
  }
}
