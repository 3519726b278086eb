import { createHash } from 'node:crypto';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { Periodic, ResourceExhaustedError } from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import type { EntityManager } from 'typeorm';

/** The hash before the first record. */
export const CHAIN_GENESIS = '0'.repeat(64);
/** Records linked per round (one transaction). */
const LINK_BATCH = 1_000;
/** Records read per page while verifying. */
const VERIFY_PAGE = 2_000;
/** Most records one VerifyAuditChain checks; it says where to go on (next_position). */
export const VERIFY_MAX_RECORDS = 100_000;
/** How often the chainer looks for records to link. */
const LINK_INTERVAL_MS = 1_000;
/** pg_try_advisory_xact_lock key: one chainer at a time per database ("audit" in ASCII). */
const CHAIN_LOCK_KEY = 0x6175646974;

/**
 * A record's content exactly as the chain hashes it: every column but the chain's own, as text
 * Postgres renders the same way on every read (the time to the microsecond, in UTC), so an edit
 * of any of them, however small, changes the hash.
 */
const CONTENT = `id::text AS id, sequence::text AS sequence, service, method, object_type,
  object_id, actor, actor_roles, tenant, request_id, peer, outcome, reason, committed,
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  duration_ms, trace_id, COALESCE(settles_id::text, '') AS settles_id`;

export interface ChainedRow {
  id: string;
  sequence: string;
  service: string;
  method: string;
  object_type: string;
  object_id: string;
  actor: string;
  actor_roles: string;
  tenant: string;
  request_id: string;
  peer: string;
  outcome: string;
  reason: string;
  committed: boolean;
  occurred_at: string;
  duration_ms: number;
  trace_id: string;
  settles_id: string;
}

/** SHA-256 (hex) of the previous hash and the record's content, as one JSON array. */
export function chainHash(previous: string, row: ChainedRow): string {
  const content = JSON.stringify([
    row.id,
    row.sequence,
    row.service,
    row.method,
    row.object_type,
    row.object_id,
    row.actor,
    row.actor_roles,
    row.tenant,
    row.request_id,
    row.peer,
    row.outcome,
    row.reason,
    row.committed,
    row.occurred_at,
    row.duration_ms,
    row.trace_id,
    row.settles_id,
  ]);
  return createHash('sha256').update(previous).update('\n').update(content).digest('hex');
}

export type ChainBreakKind = 'hash_mismatch' | 'record_missing';

export interface ChainVerdict {
  intact: boolean;
  checked: number;
  /** Where a next call goes on, when this one stopped at its limit; 0 when it reached the head. */
  nextPosition: number;
  headPosition: number;
  headHash: string;
  unlinked: number;
  firstBreak?: {
    kind: ChainBreakKind;
    position: number;
    recordId: string;
    sequence: number;
    description: string;
  };
}

/**
 * The audit trail's hash chain. Records are written by concurrent transactions that commit in
 * any order, so a record cannot name its predecessor when it is written; the chainer links
 * committed records afterwards, one round at a time under an advisory lock (several replicas, one
 * chainer at a time), in the order of their sequence among those not yet linked: each gets the
 * next position and SHA-256 over the previous hash and its content. The table is append-only
 * (AuditChain1796800000000's trigger), so that is the only change a record ever sees.
 *
 * What it proves: a record edited, removed or put in another place after it was linked breaks the
 * chain at that record, and `verify` names it. What it does not: someone able to rewrite the
 * table and recompute every hash after the edit leaves a consistent chain; comparing the head
 * (position and hash) with a copy kept elsewhere catches that.
 */
@Injectable()
export class AuditChain implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditChain');
  private readonly chainer: Periodic;
  private verifying = false;

  constructor(private readonly uow: UnitOfWork) {
    this.chainer = new Periodic(
      'linking audit records',
      LINK_INTERVAL_MS,
      () => this.linkAll(),
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.chainer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.chainer.stop();
  }

  /** Links every record committed so far; returns how many. */
  async linkAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const linked = await this.linkRound();
      total += linked;
      if (linked < LINK_BATCH) return total;
    }
  }

  /**
   * One round: up to LINK_BATCH unlinked records, in sequence order, after the chain's head.
   * Returns 0 when another chainer holds the lock (it links them).
   */
  async linkRound(): Promise<number> {
    return this.uow.manager().transaction(async (manager) => {
      const [{ locked }] = await manager.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock($1) AS locked`,
        [CHAIN_LOCK_KEY],
      );
      if (!locked) return 0;
      const rows = await manager.query<ChainedRow[]>(
        `SELECT ${CONTENT} FROM audit_log WHERE chain_position IS NULL
         ORDER BY sequence LIMIT $1`,
        [LINK_BATCH],
      );
      if (rows.length === 0) return 0;
      let { position, hash } = await head(manager);
      const links = rows.map((row) => {
        position += 1;
        hash = chainHash(hash, row);
        return { id: row.id, position, hash };
      });
      await manager.query(`SELECT audit_log_link($1::jsonb)`, [JSON.stringify(links)]);
      return rows.length;
    });
  }

  /**
   * Recomputes the chain from `fromPosition` (trusting the stored hash of the record before it)
   * for at most `maxRecords` records (0, or more than VERIFY_MAX_RECORDS: that many), and reports
   * the first broken link. One snapshot (REPEATABLE READ) for the whole check, in a unit of work
   * of the call, so its deadline stops it; one check at a time per replica.
   */
  async verify(fromPosition = 1, maxRecords = 0): Promise<ChainVerdict> {
    if (this.verifying)
      throw new ResourceExhaustedError(
        'VERIFY_IN_PROGRESS',
        'this replica is verifying its audit chain already; retry when it is done',
        { retryAfterSeconds: 5 },
      );
    this.verifying = true;
    try {
      const limit = maxRecords > 0 ? Math.min(maxRecords, VERIFY_MAX_RECORDS) : VERIFY_MAX_RECORDS;
      return await this.uow.run((tx) => verifyIn(tx.manager, Math.max(1, fromPosition), limit), {
        isolation: 'REPEATABLE READ',
      });
    } finally {
      this.verifying = false;
    }
  }
}

async function verifyIn(
  manager: EntityManager,
  start: number,
  limit: number,
): Promise<ChainVerdict> {
  const { position: headPosition, hash: headHash } = await head(manager);
  const [{ unlinked }] = await manager.query<{ unlinked: number }[]>(
    `SELECT count(*)::int AS unlinked FROM audit_log WHERE chain_position IS NULL`,
  );
  const verdict: ChainVerdict = {
    intact: true,
    checked: 0,
    nextPosition: 0,
    headPosition,
    headHash,
    unlinked,
  };
  let previous = CHAIN_GENESIS;
  let expected = start;
  if (start > 1) {
    const before = await manager.query<{ chain_position: string; chain_hash: string }[]>(
      `SELECT chain_position::text, chain_hash FROM audit_log
       WHERE chain_position < $1 ORDER BY audit_log.chain_position DESC LIMIT 1`,
      [start],
    );
    if (before.length > 0) {
      previous = before[0].chain_hash;
      expected = Number(before[0].chain_position) + 1;
    } else expected = 1;
  }
  let after = start - 1;
  for (;;) {
    const page = Math.min(VERIFY_PAGE, limit - verdict.checked);
    if (page <= 0) {
      if (after < headPosition) verdict.nextPosition = after + 1;
      return verdict;
    }
    const rows = await manager.query<
      Array<ChainedRow & { chain_position: string; chain_hash: string }>
    >(
      `SELECT ${CONTENT}, chain_position::text, chain_hash FROM audit_log
       WHERE chain_position > $1 ORDER BY audit_log.chain_position LIMIT $2`,
      [after, page],
    );
    for (const row of rows) {
      const position = Number(row.chain_position);
      const sequence = Number(row.sequence);
      if (position !== expected) {
        verdict.intact = false;
        verdict.firstBreak = {
          kind: 'record_missing',
          position,
          recordId: row.id,
          sequence,
          description:
            `record ${position} (sequence ${sequence}) follows record ${expected - 1}: ` +
            `${position - expected} record(s) before it are missing`,
        };
        return verdict;
      }
      const hash = chainHash(previous, row);
      if (hash !== row.chain_hash) {
        verdict.intact = false;
        verdict.firstBreak = {
          kind: 'hash_mismatch',
          position,
          recordId: row.id,
          sequence,
          description:
            `record ${position} (sequence ${sequence}): its stored hash is not the hash of ` +
            `its content and the record before it; it, or its hash, was changed`,
        };
        return verdict;
      }
      verdict.checked += 1;
      previous = hash;
      expected = position + 1;
      after = position;
    }
    if (rows.length < page) return verdict;
  }
}

async function head(manager: EntityManager): Promise<{ position: number; hash: string }> {
  const rows = await manager.query<{ chain_position: string; chain_hash: string }[]>(
    `SELECT chain_position::text, chain_hash FROM audit_log
     WHERE chain_position IS NOT NULL ORDER BY audit_log.chain_position DESC LIMIT 1`,
  );
  return rows.length === 0
    ? { position: 0, hash: CHAIN_GENESIS }
    : { position: Number(rows[0].chain_position), hash: rows[0].chain_hash };
}
