import { Injectable } from '@nestjs/common';
import type { AssetKindName, FindingStatusName, SecuritySeverity } from '@cinode/contracts';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { FindingEntity } from './finding.entity';

export interface FindingFilter {
  assetKind?: AssetKindName;
  assetId?: string;
  /** Only findings on these assets (a participant's own view). */
  assets?: { kind: AssetKindName; ids: string[] }[];
  status?: FindingStatusName;
  severities?: SecuritySeverity[];
  overdueOnly: boolean;
}

/** Every query of findings. */
@Injectable()
export class FindingsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** The asset's findings with these keys, locked to the end of the transaction. */
  async lockByKeys(
    tx: Tx,
    assetKind: AssetKindName,
    assetId: string,
    keys: readonly string[],
  ): Promise<FindingEntity[]> {
    if (keys.length === 0) return [];
    return tx.manager
      .getRepository(FindingEntity)
      .createQueryBuilder('f')
      .setLock('pessimistic_write')
      .where('f.asset_kind = :assetKind AND f.asset_id = :assetId AND f.dedupe_key = ANY(:keys)', {
        assetKind,
        assetId,
        keys,
      })
      .orderBy('f.dedupe_key')
      .getMany();
  }

  /** The asset's open or verified findings of these tools, locked. */
  async lockOpenOfTools(
    tx: Tx,
    assetKind: AssetKindName,
    assetId: string,
    tools: readonly string[],
  ): Promise<FindingEntity[]> {
    return tx.manager
      .getRepository(FindingEntity)
      .createQueryBuilder('f')
      .setLock('pessimistic_write')
      .where(
        `f.asset_kind = :assetKind AND f.asset_id = :assetId AND f.tool = ANY(:tools)
         AND f.status IN ('open', 'verified')`,
        { assetKind, assetId, tools },
      )
      .orderBy('f.dedupe_key')
      .getMany();
  }

  /** The asset's open posture findings of one address (what checks of that endpoint found), locked. */
  async lockOpenAtLocation(
    tx: Tx,
    assetKind: AssetKindName,
    assetId: string,
    tool: string,
    location: string,
  ): Promise<FindingEntity[]> {
    return tx.manager
      .getRepository(FindingEntity)
      .createQueryBuilder('f')
      .setLock('pessimistic_write')
      .where(
        `f.asset_kind = :assetKind AND f.asset_id = :assetId AND f.tool = :tool
         AND f.location = :location AND f.status IN ('open', 'verified')`,
        { assetKind, assetId, tool, location },
      )
      .orderBy('f.dedupe_key')
      .getMany();
  }

  /** Serialises writes of findings on one asset (two imports never insert the same key). */
  async lockAsset(tx: Tx, assetKind: AssetKindName, assetId: string): Promise<void> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 40413))`, [
      `${assetKind}:${assetId}`,
    ]);
  }

  async lock(tx: Tx, findingId: string): Promise<FindingEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(FindingEntity)
        .createQueryBuilder('f')
        .setLock('pessimistic_write')
        .where('f.finding_id = :findingId', { findingId })
        .getOne()) ?? undefined
    );
  }

  /** Inserts many findings in one statement. */
  async insertMany(tx: Tx, findings: readonly FindingEntity[]): Promise<void> {
    for (let i = 0; i < findings.length; i += 1_000)
      await tx.manager.getRepository(FindingEntity).insert(findings.slice(i, i + 1_000));
  }

  async save(tx: Tx, finding: FindingEntity): Promise<void> {
    await tx.manager.getRepository(FindingEntity).save(finding);
  }

  /**
   * Writes changed findings (already locked by this transaction) back, 500 to a statement: one
   * INSERT ... ON CONFLICT (finding_id) DO UPDATE each, instead of a read and a write per row, so
   * a complete re-scan that closes thousands of findings costs a few statements.
   */
  async saveMany(tx: Tx, findings: readonly FindingEntity[]): Promise<void> {
    for (let i = 0; i < findings.length; i += 500)
      await tx.manager.getRepository(FindingEntity).upsert(findings.slice(i, i + 500), {
        conflictPaths: ['findingId'],
        skipUpdateIfNoValuesChanged: false,
      });
  }

  /** Marks findings found again, in one statement. */
  async touch(tx: Tx, findingIds: readonly string[], seenAt: Date): Promise<void> {
    if (findingIds.length === 0) return;
    await tx.manager.query(
      `UPDATE finding SET last_seen_at = $2 WHERE finding_id = ANY($1::uuid[])`,
      [findingIds, seenAt],
    );
  }

  /** Risk acceptances that ran out, locked (at most `limit`). */
  async lockLapsedAcceptances(tx: Tx, now: Date, limit: number): Promise<FindingEntity[]> {
    return tx.manager
      .getRepository(FindingEntity)
      .createQueryBuilder('f')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where(`f.status = 'risk_accepted' AND f.accepted_until <= :now`, { now })
      .orderBy('f.accepted_until')
      .limit(limit)
      .getMany();
  }

  /** A page, oldest first. */
  async list(
    filter: FindingFilter,
    after: PagePosition | undefined,
    limit: number,
  ): Promise<FindingEntity[]> {
    const query = this.uow.manager().getRepository(FindingEntity).createQueryBuilder('f');
    if (filter.assetKind)
      query.andWhere('f.asset_kind = :assetKind', { assetKind: filter.assetKind });
    if (filter.assetId) query.andWhere('f.asset_id = :assetId', { assetId: filter.assetId });
    if (filter.assets) {
      const clauses = filter.assets.map(
        (_, i) => `(f.asset_kind = :k${i} AND f.asset_id = ANY(:ids${i}))`,
      );
      const params: Record<string, unknown> = Object.fromEntries(
        filter.assets.flatMap((a, i): [string, unknown][] => [
          [`k${i}`, a.kind],
          [`ids${i}`, a.ids],
        ]),
      );
      query.andWhere(clauses.length > 0 ? `(${clauses.join(' OR ')})` : 'false', params);
    }
    if (filter.status) query.andWhere('f.status = :status', { status: filter.status });
    if (filter.severities)
      query.andWhere('f.severity = ANY(:severities)', { severities: filter.severities });
    if (filter.overdueOnly) query.andWhere(`f.status IN ('open', 'verified') AND f.due_at < now()`);
    if (after)
      query.andWhere('(f.first_seen_at, f.finding_id) > (:afterTime, :afterId)', {
        afterTime: after.after,
        afterId: after.afterId,
      });
    return query
      .orderBy('f.first_seen_at', 'ASC')
      .addOrderBy('f.finding_id', 'ASC')
      .limit(limit)
      .getMany();
  }
}
