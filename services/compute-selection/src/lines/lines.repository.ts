import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { LineEntity, LineIdentifierEntity, type LineFiling } from './line.entity';

@Injectable()
export class LinesRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Serialises the registration of a line and the filing events of its identifier. */
  async lockIdentifier(tx: Tx, identifier: string): Promise<void> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 20252))`, [
      identifier,
    ]);
  }

  /**
   * How many lines the provider has, counted under a lock of the provider's registrations (held to
   * commit), so two concurrent ones cannot both take its last place.
   */
  async countOfProvider(tx: Tx | undefined, providerParticipantId: string): Promise<number> {
    const manager = tx?.manager ?? this.uow.manager();
    if (tx)
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 20253))`, [
        providerParticipantId,
      ]);
    const [{ count }] = await manager.query<Array<{ count: number }>>(
      `SELECT count(*)::int AS count FROM line WHERE provider_participant_id = $1`,
      [providerParticipantId],
    );
    return count;
  }

  async filingOf(tx: Tx, identifier: string): Promise<LineFiling | undefined> {
    const row = await tx.manager.getRepository(LineIdentifierEntity).findOneBy({ identifier });
    return row?.filing;
  }

  /** Records an identifier's filing state unless a newer version is recorded; true if it was. */
  async recordFiling(
    tx: Tx,
    identifier: string,
    filing: LineFiling,
    version: number,
  ): Promise<boolean> {
    const rows = await tx.manager.query<unknown[]>(
      `INSERT INTO line_identifier (identifier, filing, version) VALUES ($1, $2, $3)
       ON CONFLICT (identifier) DO UPDATE SET filing = excluded.filing, version = excluded.version
       WHERE line_identifier.version < excluded.version
       RETURNING identifier`,
      [identifier, filing, version],
    );
    return rows.length > 0;
  }

  async insert(tx: Tx, line: LineEntity): Promise<void> {
    await tx.manager.getRepository(LineEntity).insert(line);
  }

  async findById(lineId: string, tx?: Tx): Promise<LineEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(LineEntity).findOneBy({ lineId })) ?? undefined
    );
  }

  /** The line, its row locked until the transaction ends. */
  async lock(tx: Tx, lineId: string): Promise<LineEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(LineEntity)
        .createQueryBuilder('l')
        .setLock('pessimistic_write')
        .where('l.line_id = :lineId', { lineId })
        .getOne()) ?? undefined
    );
  }

  /** Writes a changed line (its row locked by `lock`). */
  async save(tx: Tx, line: LineEntity): Promise<void> {
    const { lineId, ...changes } = line;
    await tx.manager.getRepository(LineEntity).update({ lineId }, changes);
  }

  /** One page in registration order; fetches one extra row to know whether another page exists. */
  list(
    filter: { providerParticipantId?: string },
    limit: number,
    after: PagePosition | undefined,
  ): Promise<LineEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(LineEntity)
      .createQueryBuilder('l')
      .orderBy('l.registered_at', 'ASC')
      .addOrderBy('l.line_id', 'ASC')
      .limit(limit + 1);
    if (filter.providerParticipantId)
      query.andWhere('l.provider_participant_id = :provider', {
        provider: filter.providerParticipantId,
      });
    if (after)
      query.andWhere('(l.registered_at, l.line_id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
