import type { UnitOfWork } from '@cinode/database';
import type { DataSource } from 'typeorm';
import { IdentifierEntity } from '../src/identifiers/identifier.entity';
import type { IdentifiersRepository } from '../src/identifiers/identifiers.repository';
import { openIdentifierDatabase } from './identifier-database';

/**
 * ResolveIdentifier reads an identifier and its history in one query mapped by hand; it must
 * answer exactly what the ORM's two reads (find, then record) answer, for every column.
 */
describe('IdentifiersRepository.findRecord', () => {
  let db: DataSource;
  let identifiers: IdentifiersRepository;
  let uow: UnitOfWork;

  beforeAll(async () => {
    ({ db, uow, identifiers } = await openIdentifierDatabase('identifier_records'));
  });

  afterAll(async () => {
    await db?.destroy();
  });

  async function issue(identifier: string, filed: boolean): Promise<void> {
    await uow.run(async (tx) => {
      const serial = await identifiers.nextSerial(tx);
      const at = new Date('2026-11-30T10:11:12.345Z');
      await identifiers.insert(
        tx,
        Object.assign(new IdentifierEntity(), {
          identifier,
          serial,
          nodeCode: 'R0001',
          objectType: 'RP',
          objectName: 'Pool "A" — 上海',
          ownerParticipantId: 'p-1',
          ownerName: 'Example Cloud Ltd.',
          ownerCreditCode: '91310000MA1FL0000X',
          attributes: { region: 'east', note: 'a\\b"c' },
          state: filed ? 'filed' : 'pending_filing',
          suspensionCause: null,
          filingNumber: filed ? 'NF20260101000001' : null,
          filingError: filed ? null : 'national node unavailable',
          filedAt: filed ? new Date('2026-11-30T10:11:13.999Z') : null,
          issuedBy: 'p-1',
          issuedAt: at,
          stateChangedAt: at,
          version: filed ? 2 : 1,
        }),
      );
      // Timestamps with microseconds, as now() writes them.
      await tx.manager.query(
        `INSERT INTO identifier_transition (identifier, from_state, to_state, actor, reason, changed_at)
         VALUES ($1, NULL, 'pending_filing', 'p-1', 'issued', '2026-11-30T10:11:12.345678Z')`,
        [identifier],
      );
      if (filed)
        await tx.manager.query(
          `INSERT INTO identifier_transition (identifier, from_state, to_state, actor, reason, changed_at)
           VALUES ($1, 'pending_filing', 'filed', 'identifier', 'filed: NF20260101000001', now())`,
          [identifier],
        );
    });
  }

  it.each([
    ['a filed identifier with its history', 'CN.R0001.RP.000000011', true],
    ['a pending one', 'CN.R0001.RP.000000029', false],
  ])('answers %s as the ORM reads it', async (_what, identifier, filed) => {
    await issue(identifier, filed);
    const entity = await identifiers.find(identifier);
    const expected = await identifiers.record(entity!);
    const record = await identifiers.findRecord(identifier);
    expect(record).toEqual(expected);
    expect(record?.transitions.map((t) => t.toState)).toEqual(
      filed ? ['pending_filing', 'filed'] : ['pending_filing'],
    );
  });

  it('answers undefined for an identifier it does not hold', async () => {
    await expect(identifiers.findRecord('CN.R0001.RP.999999990')).resolves.toBeUndefined();
  });
});
