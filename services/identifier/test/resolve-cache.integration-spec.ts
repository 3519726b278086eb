import type { Caller } from '@cinode/auth';
import { PageTokens } from '@cinode/common';
import type { UnitOfWork } from '@cinode/database';
import { eventually } from '@cinode/testing';
import type { DataSource } from 'typeorm';
import type { IdentifierConfig } from '../src/config';
import { formatIdentifier } from '../src/format/identifier-format';
import { IdentifierEntity } from '../src/identifiers/identifier.entity';
import type { IdentifiersRepository } from '../src/identifiers/identifiers.repository';
import { openIdentifierDatabase } from './identifier-database';
import { QueriesService } from '../src/queries/queries.service';
import { ResolveCache } from '../src/queries/resolve-cache';
import { NODE_PREFIX, usableSerial } from './identifier-fakes';

const OPERATOR: Caller = {
  subject: 'op-1',
  roles: ['operator'],
  tenant: 'op-1',
  tokenId: 't-1',
  expiresAt: new Date(Date.now() + 3_600_000),
};

/**
 * ResolveIdentifier answers from memory, but never what changed: every change of an identifier or
 * its history, by whoever makes it (here: plain SQL on another connection), drops the entry at
 * commit. The entries' own lifetime is set to a minute so that only the notification can explain
 * a fresh answer within the test's two seconds.
 */
describe('resolved identifiers remembered by ResolveCache', () => {
  let db: DataSource;
  let cache: ResolveCache;
  let queries: QueriesService;
  let repository: IdentifiersRepository;
  let uow: UnitOfWork;

  beforeAll(async () => {
    ({
      db,
      uow,
      identifiers: repository,
    } = await openIdentifierDatabase('identifier_resolve_cache'));
    cache = new ResolveCache(uow, { RESOLVE_CACHE_MS: 60_000 } as IdentifierConfig);
    await cache.onModuleInit();
    queries = new QueriesService(repository, PageTokens.ephemeral(), cache);
  });

  afterAll(async () => {
    await cache?.beforeApplicationShutdown();
    await db?.destroy();
  });

  async function issue(identifier: string): Promise<void> {
    await uow.run(async (tx) => {
      const at = new Date();
      await repository.insert(
        tx,
        Object.assign(new IdentifierEntity(), {
          identifier,
          serial: await repository.nextSerial(tx),
          nodeCode: NODE_PREFIX.split('.')[1],
          objectType: 'RP',
          objectName: 'Pool',
          ownerParticipantId: 'p-1',
          ownerName: 'Example Cloud Ltd.',
          ownerCreditCode: '91310000MA1FL0000X',
          attributes: {},
          state: 'pending_filing',
          suspensionCause: null,
          filingNumber: null,
          filingError: null,
          filedAt: null,
          issuedBy: 'p-1',
          issuedAt: at,
          stateChangedAt: at,
          version: 1,
        }),
      );
    });
  }

  it('answers from memory until the identifier changes, then the change at once', async () => {
    const id = formatIdentifier(NODE_PREFIX, 'RP', usableSerial(10));
    await issue(id);
    const first = await queries.resolve(OPERATOR, id);
    expect(first.entity.state).toBe('pending_filing');
    // Remembered: the same record object comes back.
    await eventually('the record to be remembered', async () =>
      (await queries.resolve(OPERATOR, id)) === (await queries.resolve(OPERATOR, id))
        ? true
        : undefined,
    );

    await db.query(
      `UPDATE identifier SET state = 'filed', filing_number = 'NF1' WHERE identifier = $1`,
      [id],
    );
    const filed = await eventually(
      'the change to reach the resolver',
      async () => {
        const record = await queries.resolve(OPERATOR, id);
        return record.entity.state === 'filed' ? record : undefined;
      },
      2_000,
    );
    expect(filed.entity.filingNumber).toBe('NF1');

    // A new transition alone (history) is a change too.
    await db.query(
      `INSERT INTO identifier_transition (identifier, from_state, to_state, actor, reason, changed_at)
       VALUES ($1, 'pending_filing', 'filed', 'operator', 'by hand', now())`,
      [id],
    );
    await eventually(
      'the new transition to show',
      async () =>
        (await queries.resolve(OPERATOR, id)).transitions.length === 1 ? true : undefined,
      2_000,
    );
  });

  it('answers remembered records at once, only to callers who may see them', async () => {
    const id = formatIdentifier(NODE_PREFIX, 'RP', usableSerial(11));
    await issue(id);
    expect(queries.remembered(OPERATOR, id)).toBeUndefined();
    // Remembered once a read completes with no change notified since it began.
    const known = await eventually('the record to be remembered', async () => {
      const read = await queries.resolve(OPERATOR, id);
      return queries.remembered(OPERATOR, id.toLowerCase()) === read ? read : undefined;
    });
    expect(known.entity.identifier).toBe(id);
    // Not filed: a stranger is refused by resolve(), never answered from memory.
    const stranger: Caller = { ...OPERATOR, subject: 'p-9', roles: ['provider'], tenant: 'p-9' };
    expect(queries.remembered(stranger, id)).toBeUndefined();
    await expect(queries.resolve(stranger, id)).rejects.toMatchObject({
      reason: 'IDENTIFIER_NOT_VISIBLE',
    });
    // Malformed input is resolve()'s to refuse, too.
    expect(queries.remembered(OPERATOR, `${id}x`)).toBeUndefined();
  });

  it('drops everything when a table is truncated', async () => {
    const id = formatIdentifier(NODE_PREFIX, 'RP', usableSerial(30));
    await issue(id);
    await db.query(
      `INSERT INTO identifier_transition (identifier, from_state, to_state, actor, reason, changed_at)
       VALUES ($1, NULL, 'pending_filing', 'p-1', 'issued', now())`,
      [id],
    );
    await eventually('the history to be remembered', async () =>
      (await queries.resolve(OPERATOR, id)).transitions.length === 1 && cache.get(id) !== undefined
        ? true
        : undefined,
    );
    await db.query(`TRUNCATE identifier_transition`);
    await eventually(
      'the truncation to reach the resolver',
      async () =>
        (await queries.resolve(OPERATOR, id)).transitions.length === 0 ? true : undefined,
      2_000,
    );
  });

  it('stops serving from memory when its connection is cut, and resumes once it is back', async () => {
    const id = formatIdentifier(NODE_PREFIX, 'RP', usableSerial(40));
    await issue(id);
    await eventually('the record to be remembered', async () => {
      await queries.resolve(OPERATOR, id);
      return cache.get(id) !== undefined ? true : undefined;
    });
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'listen-identifier_changed' AND datname = current_database()`,
    );
    await eventually('the cache to stop serving', async () =>
      cache.get(id) === undefined ? true : undefined,
    );
    // Changed while nobody listened: the reconnected cache must not serve the old state.
    await db.query(`UPDATE identifier SET state = 'filed' WHERE identifier = $1`, [id]);
    await eventually(
      'the cache to serve again, the new state',
      async () => {
        const record = await queries.resolve(OPERATOR, id);
        return record.entity.state === 'filed' && cache.get(id) !== undefined ? true : undefined;
      },
      10_000,
    );
  });

  it('serves nothing from memory once its notifications stop', async () => {
    const id = formatIdentifier(NODE_PREFIX, 'RP', usableSerial(20));
    await issue(id);
    await queries.resolve(OPERATOR, id);
    await cache.beforeApplicationShutdown();
    expect(cache.get(id)).toBeUndefined();
    await db.query(`UPDATE identifier SET state = 'filed' WHERE identifier = $1`, [id]);
    expect((await queries.resolve(OPERATOR, id)).entity.state).toBe('filed');
  });
});
