import { Injectable } from '@nestjs/common';
import type { PoolStateName } from '@cinode/contracts';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { PoolIdentifierEntity } from './pool-identifier.entity';
import { PoolRiskEntity } from './pool-risk.entity';
import { PoolEntity, type PoolFiling } from './pool.entity';

/** What the security service's risk assessment of a pool restricts (see RiskChanged). */
export interface PoolRisk {
  securityLevelCap: number | null;
  quarantined: boolean;
  /** The risk's version at the security service. */
  version: number;
}

export interface PoolFilter {
  providerParticipantId?: string;
  state?: PoolStateName;
  regionCode?: string;
}

/** SQL condition of each pool state (see poolStateOf). */
const STATE_CONDITIONS: Readonly<Record<PoolStateName, string>> = {
  pending_filing: `p.filing = 'pending'`,
  suspended: `p.filing = 'suspended'`,
  online: `p.filing = 'filed' AND p.liveness = 'online'`,
  stale: `p.filing = 'filed' AND p.liveness = 'stale'`,
  offline: `p.filing = 'filed' AND p.liveness IN ('offline', 'unknown')`,
};

@Injectable()
export class PoolsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Serialises the registration of a pool and the filing events of its identifier. */
  async lockIdentifier(tx: Tx, identifier: string): Promise<void> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 20251))`, [
      identifier,
    ]);
  }

  async filingOf(tx: Tx, identifier: string): Promise<PoolFiling | undefined> {
    const row = await tx.manager.getRepository(PoolIdentifierEntity).findOneBy({ identifier });
    return row?.filing;
  }

  /** Records an identifier's filing state unless a newer version is recorded; true if it was. */
  async recordFiling(
    tx: Tx,
    identifier: string,
    filing: PoolFiling,
    version: number,
  ): Promise<boolean> {
    const rows = await tx.manager.query<unknown[]>(
      `INSERT INTO pool_identifier (identifier, filing, version) VALUES ($1, $2, $3)
       ON CONFLICT (identifier) DO UPDATE SET filing = excluded.filing, version = excluded.version
       WHERE pool_identifier.version < excluded.version
       RETURNING identifier`,
      [identifier, filing, version],
    );
    return rows.length > 0;
  }

  /** Records a pool's risk unless a newer or the same version is recorded; true if it was. */
  async recordRisk(tx: Tx, poolId: string, risk: PoolRisk): Promise<boolean> {
    const rows = await tx.manager.query<unknown[]>(
      `INSERT INTO pool_risk (pool_id, security_level_cap, quarantined, version)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (pool_id) DO UPDATE SET security_level_cap = excluded.security_level_cap,
         quarantined = excluded.quarantined, version = excluded.version
       WHERE pool_risk.version < excluded.version
       RETURNING pool_id`,
      [poolId, risk.securityLevelCap, risk.quarantined, risk.version],
    );
    return rows.length > 0;
  }

  async riskOf(tx: Tx, poolId: string): Promise<PoolRisk | undefined> {
    const row = await tx.manager.getRepository(PoolRiskEntity).findOneBy({ poolId });
    return row
      ? {
          securityLevelCap: row.securityLevelCap,
          quarantined: row.quarantined,
          version: row.version,
        }
      : undefined;
  }

  /** Stores the pool's risk columns and version as they are on the (locked) entity. */
  async saveRisk(tx: Tx, pool: PoolEntity): Promise<void> {
    await tx.manager.getRepository(PoolEntity).update(
      { poolId: pool.poolId },
      {
        securityLevelCap: pool.securityLevelCap,
        quarantined: pool.quarantined,
        riskVersion: pool.riskVersion,
        version: pool.version,
      },
    );
  }

  async insert(tx: Tx, pool: PoolEntity): Promise<void> {
    await tx.manager.getRepository(PoolEntity).insert(pool);
  }

  async findById(poolId: string, tx?: Tx): Promise<PoolEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(PoolEntity).findOneBy({ poolId })) ?? undefined
    );
  }

  /** The pool, its row locked until the transaction ends. */
  async lock(tx: Tx, poolId: string): Promise<PoolEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(PoolEntity)
        .createQueryBuilder('p')
        .setLock('pessimistic_write')
        .where('p.pool_id = :poolId', { poolId })
        .getOne()) ?? undefined
    );
  }

  /**
   * `lock`, unless another transaction holds the pool's row (a report, another replica's sweep):
   * then undefined at once, as for a pool that does not exist.
   */
  async lockIfFree(tx: Tx, poolId: string): Promise<PoolEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(PoolEntity)
        .createQueryBuilder('p')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .where('p.pool_id = :poolId', { poolId })
        .getOne()) ?? undefined
    );
  }

  /** Sets a pool's filing; the pool's version advances. Undefined when there is no such pool. */
  async setFiling(
    tx: Tx,
    poolId: string,
    filing: PoolFiling,
    at: Date,
  ): Promise<PoolEntity | undefined> {
    const pool = await this.lock(tx, poolId);
    if (!pool || pool.filing === filing) return undefined;
    pool.filing = filing;
    pool.version += 1;
    pool.stateChangedAt = at;
    await tx.manager
      .getRepository(PoolEntity)
      .update({ poolId }, { filing, version: pool.version, stateChangedAt: at });
    return pool;
  }

  /** One page in registration order; fetches one extra row to know whether another page exists. */
  list(filter: PoolFilter, limit: number, after: PagePosition | undefined): Promise<PoolEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(PoolEntity)
      .createQueryBuilder('p')
      .orderBy('p.registered_at', 'ASC')
      .addOrderBy('p.pool_id', 'ASC')
      .limit(limit + 1);
    if (filter.providerParticipantId)
      query.andWhere('p.provider_participant_id = :provider', {
        provider: filter.providerParticipantId,
      });
    if (filter.regionCode) query.andWhere('p.region_code = :region', { region: filter.regionCode });
    if (filter.state) query.andWhere(STATE_CONDITIONS[filter.state]);
    if (after) {
      query.andWhere('(p.registered_at, p.pool_id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    }
    return query.getMany();
  }
}
