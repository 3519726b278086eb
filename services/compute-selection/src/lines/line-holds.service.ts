import { Injectable } from '@nestjs/common';
import { hasRole, type Caller } from '@cinode/auth';
import {
  FailedPreconditionError,
  FieldChecks,
  fingerprintOf,
  LOWER_CASE_UUID,
  NotFoundError,
  PageTokens,
  PermissionDeniedError,
  resolvePageSize,
  ResourceExhaustedError,
  uuidv7,
} from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import {
  LineHoldState,
  type HoldLineBandwidthRequest,
  type ListLineHoldsRequest,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import type { ComputeSelectionConfig } from '../config';
import { ErrorReason } from '../errors';
import { RESERVING, type LineHoldEntity } from './line-hold.entity';
import { LineHoldsRepository } from './line-holds.repository';
import { REQUEST_ID_PATTERN, lineIdOf, lineNotFound } from './line-input';
import { lineEvent, lineHoldStateNameOf, lineStateOf } from './line-view';
import type { LineEntity } from './line.entity';
import { LinesRepository } from './lines.repository';

export const HOLD_LINE_OPERATION = 'HoldLineBandwidth';
/** A hold not confirmed within this (0 asks for it) gives its bandwidth back. */
export const DEFAULT_LINE_HOLD_TTL_SECONDS = 300;
const MAX_TTL_SECONDS = 3_600;
/** A year: the longest duration an order may plan (a confirmed reservation has no end of its own). */
const MAX_DURATION_HOURS = 8_760;
const MAX_BANDWIDTH_MBPS = 1_000_000_000;

export function lineHoldIdOf(value: string): string {
  new FieldChecks()
    .text('hold_id', value, {
      max: 36,
      pattern: LOWER_CASE_UUID,
      patternHint: 'must be a lower-case UUID',
    })
    .throwIfAny();
  return value;
}

function holdNotFound(holdId: string): NotFoundError {
  return new NotFoundError(ErrorReason.LINE_HOLD_NOT_FOUND, `line hold ${holdId} does not exist`);
}

/**
 * Bandwidth of dedicated lines reserved for orders. A line's `bandwidth_mbps_reserved` is the sum
 * of its HELD and CONFIRMED holds, changed in the transaction that changes a hold, under the line's
 * row lock (taken before the hold's), and every change of it is a new version of the line with its
 * event: each replica's line table then offers free less reserved.
 */
@Injectable()
export class LineHoldsService {
  private readonly holders: ReadonlySet<string>;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly lines: LinesRepository,
    private readonly holds: LineHoldsRepository,
    private readonly pageTokens: PageTokens,
    @InjectConfig() config: Pick<ComputeSelectionConfig, 'LINE_HOLD_CALLERS'>,
  ) {
    this.holders = new Set(
      config.LINE_HOLD_CALLERS.split(',')
        .map((subject) => subject.trim())
        .filter(Boolean),
    );
  }

  /**
   * One page of holds in the order they were made, of one line and in one state when asked (the
   * RPC admits operators, regulators and the node's services, who see every hold).
   */
  async list(
    request: ListLineHoldsRequest,
  ): Promise<{ holds: LineHoldEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    const lineId = request.lineId === '' ? undefined : lineIdOf(request.lineId);
    const state = lineHoldStateNameOf(request.state);
    if (request.state !== LineHoldState.LINE_HOLD_STATE_UNSPECIFIED && !state)
      new FieldChecks().add('state', `unknown value ${request.state}`).throwIfAny();
    const filterKey = `line-holds:${lineId ?? ''}:${state ?? ''}`;
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.holds.list({ lineId, state }, limit, after);
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (hold) => ({ after: hold.createdAt.toISOString(), afterId: hold.holdId }),
      filterKey,
    );
    return { holds: page, nextPageToken };
  }

  /** Only the services that place orders (LINE_HOLD_CALLERS) reserve a line's bandwidth. */
  private assertHolder(caller: Caller): void {
    if (!this.holders.has(caller.subject))
      throw new PermissionDeniedError(
        ErrorReason.NOT_A_LINE_HOLDER,
        `${caller.subject} does not place orders: only ${[...this.holders].join(', ')} hold line bandwidth`,
      );
  }

  /**
   * Reserves bandwidth of an active line: its free bandwidth less what other holds reserve must
   * cover the request, checked under the line's row lock, so two orders never both get the last
   * Mbit/s.
   */
  async hold(
    caller: Caller,
    request: HoldLineBandwidthRequest,
  ): Promise<{ hold: LineHoldEntity; created: boolean }> {
    this.assertHolder(caller);
    const checks = new FieldChecks()
      .text('request_id', request.requestId, {
        max: 64,
        pattern: REQUEST_ID_PATTERN,
        patternHint: "must be letters, digits, '.', '_', ':' or '-'",
      })
      .text('order_reference', request.orderReference, { max: 128 });
    whole(checks, 'bandwidth_mbps', request.bandwidthMbps, 1, MAX_BANDWIDTH_MBPS);
    const ttl = request.ttlSeconds === 0 ? DEFAULT_LINE_HOLD_TTL_SECONDS : request.ttlSeconds;
    whole(checks, 'ttl_seconds', ttl, 1, MAX_TTL_SECONDS);
    whole(checks, 'duration_hours', request.durationHours, 1, MAX_DURATION_HOURS);
    checks.throwIfAny();
    const lineId = lineIdOf(request.lineId);
    const key = {
      scope: caller.subject,
      requestId: request.requestId,
      operation: HOLD_LINE_OPERATION,
      fingerprint: fingerprintOf({
        lineId,
        order: request.orderReference,
        mbps: request.bandwidthMbps,
        ttl,
        hours: request.durationHours,
      }),
    };
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      const line = await this.lines.lock(tx, lineId);
      if (!line) throw lineNotFound(lineId);
      const state = lineStateOf(line);
      if (state !== 'active')
        throw new FailedPreconditionError(
          ErrorReason.LINE_NOT_USABLE,
          `line ${lineId} is ${state}, not active`,
          { metadata: { current_state: state.toUpperCase() } },
        );
      // Holds past their time that the sweep has not reached yet reserve nothing any more: they
      // expire here (under the line's lock, as the sweep expires them), and `reserve` below
      // publishes the line's reservation without them.
      const reserved =
        (await this.holds.expire(tx, lineId)) > 0
          ? await this.holds.reservedOn(tx, lineId)
          : line.bandwidthMbpsReserved;
      const available = Math.max(0, line.bandwidthMbpsFree - reserved);
      if (request.bandwidthMbps > available)
        throw new ResourceExhaustedError(
          ErrorReason.INSUFFICIENT_BANDWIDTH,
          `line ${lineId} has ${available} Mbit/s free, ${request.bandwidthMbps} asked`,
          { metadata: { free_mbps: String(available) } },
        );
      const now = await this.holds.databaseNow(tx);
      const hold: LineHoldEntity = {
        holdId: uuidv7(now.getTime()),
        lineId,
        orderReference: request.orderReference,
        bandwidthMbps: request.bandwidthMbps,
        durationHours: request.durationHours,
        state: 'held',
        expiresAt: new Date(now.getTime() + ttl * 1000),
        createdBy: caller.subject,
        createdAt: now,
        stateChangedAt: now,
        detail: '',
      };
      await this.holds.insert(tx, hold);
      await this.reserve(tx, line, now);
      return { result: hold, objectId: hold.holdId };
    });
    if (outcome.created) return { hold: outcome.result, created: true };
    return { hold: await this.get(outcome.objectId), created: false };
  }

  /**
   * Confirms a held reservation: it then lasts until released (its `expires_at` becomes the end of
   * the order's planned duration, for information: a task that starts late or runs long keeps its
   * line). Confirming a confirmed one changes nothing.
   */
  confirm(caller: Caller, holdIdInput: string): Promise<LineHoldEntity> {
    this.assertHolder(caller);
    return this.transition(caller, holdIdInput, async (tx, hold, line) => {
      if (hold.state === 'confirmed') return;
      const now = await this.holds.databaseNow(tx);
      if (hold.state !== 'held' || hold.expiresAt.getTime() <= now.getTime()) {
        const state = hold.state === 'held' ? 'expired' : hold.state;
        throw new FailedPreconditionError(
          ErrorReason.LINE_HOLD_NOT_ACTIVE,
          `line hold ${hold.holdId} is ${state}`,
          { metadata: { current_state: state.toUpperCase() } },
        );
      }
      const state = lineStateOf(line);
      if (state !== 'active')
        throw new FailedPreconditionError(
          ErrorReason.LINE_NOT_USABLE,
          `line ${line.lineId} is ${state}, not active`,
          { metadata: { current_state: state.toUpperCase() } },
        );
      hold.state = 'confirmed';
      hold.stateChangedAt = now;
      hold.expiresAt = new Date(now.getTime() + hold.durationHours * 3_600_000);
      await this.holds.setState(tx, hold);
    });
  }

  /** Gives a reservation's bandwidth back; a released or expired one stays as it is. */
  release(caller: Caller, holdIdInput: string, reason: string): Promise<LineHoldEntity> {
    new FieldChecks().text('reason', reason, { required: false, max: 500 }).throwIfAny();
    return this.transition(caller, holdIdInput, async (tx, hold, line) => {
      if (!RESERVING.has(hold.state)) return;
      const now = await this.holds.databaseNow(tx);
      hold.state = 'released';
      hold.stateChangedAt = now;
      hold.detail = reason;
      await this.holds.setState(tx, hold);
      await this.reserve(tx, line, now);
    });
  }

  async get(holdIdInput: string): Promise<LineHoldEntity> {
    const holdId = lineHoldIdOf(holdIdInput);
    const hold = await this.holds.findById(holdId);
    if (!hold) throw holdNotFound(holdId);
    return hold;
  }

  /** Expires the holds past their time, line by line; returns how many. */
  async expireDue(limit = 500): Promise<number> {
    let expired = 0;
    for (const lineId of await this.holds.linesWithExpired(limit)) {
      expired += await this.uow.run(async (tx) => {
        const line = await this.lines.lock(tx, lineId);
        if (!line) return 0;
        const expired = await this.holds.expire(tx, lineId);
        if (expired > 0) await this.reserve(tx, line, await this.holds.databaseNow(tx));
        return expired;
      });
    }
    return expired;
  }

  /**
   * Records what the line has reserved after its holds changed (its row locked): the sum of its
   * held and confirmed holds, counted again rather than adjusted, so it cannot drift. A new
   * version of the line, with its event, when it changed.
   */
  private async reserve(tx: Tx, line: LineEntity, now: Date): Promise<void> {
    const reserved = await this.holds.reservedOn(tx, line.lineId);
    if (reserved === line.bandwidthMbpsReserved) return;
    const next: LineEntity = {
      ...line,
      bandwidthMbpsReserved: reserved,
      version: line.version + 1,
      updatedAt: now,
    };
    await this.lines.save(tx, next);
    await tx.emit(lineEvent(next));
  }

  /**
   * Locks the hold's line, then the hold, and runs `change` on them. Only the caller that created
   * the hold (or an operator) changes it: anyone else could end another order's reservation.
   */
  private async transition(
    caller: Caller,
    holdIdInput: string,
    change: (tx: Tx, hold: LineHoldEntity, line: LineEntity) => Promise<void>,
  ): Promise<LineHoldEntity> {
    const holdId = lineHoldIdOf(holdIdInput);
    return this.uow.run(async (tx) => {
      const found = await this.holds.findById(holdId, tx);
      // Checked before any lock: another caller cannot keep a line's row busy with ids it holds not.
      if (found && found.createdBy !== caller.subject && !hasRole(caller, 'operator'))
        throw new PermissionDeniedError(
          ErrorReason.NOT_HOLDER,
          `line hold ${holdId} was created by another caller; only it or an operator changes it`,
        );
      if (!found) throw holdNotFound(holdId);
      const line = await this.lines.lock(tx, found.lineId);
      const hold = await this.holds.lock(tx, holdId);
      if (!line || !hold) throw holdNotFound(holdId);
      tx.objectId = holdId;
      await change(tx, hold, line);
      return hold;
    });
  }
}

function whole(checks: FieldChecks, field: string, value: number, min: number, max: number) {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    checks.add(field, `must be a whole number between ${min} and ${max}`);
}
