import { Injectable } from '@nestjs/common';
import type { AttackEventStateName, SecuritySeverity } from '@cinode/contracts';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { AttackEventEntity } from './attack-event.entity';

export interface AttackEventFilter {
  state?: AttackEventStateName;
  severities?: SecuritySeverity[];
  source?: string;
  attackTimeFrom?: Date;
  attackTimeTo?: Date;
  updatedFrom?: Date;
  excludeFalsePositives: boolean;
}

/** Every query of attack events. */
@Injectable()
export class AttackEventsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Inserts the events not recorded yet, in one statement; returns the reporter ids it inserted.
   * One that another call inserted meanwhile waits for it and is left out (ON CONFLICT).
   */
  async insertNew(tx: Tx, events: readonly AttackEventEntity[]): Promise<Set<string>> {
    const rows = await tx.manager.query<Array<{ event_id: string }>>(
      `INSERT INTO attack_event (security_event_id, source, event_id, attack_time, attacker_ip,
              target_ip, attack_method, attacked_asset_type, ongoing, description, handling_status,
              severity, pool_id, participant_id, state, version, note, recorded_at, updated_at)
       SELECT r.security_event_id, r.source, r.event_id, r.attack_time, r.attacker_ip, r.target_ip,
              r.attack_method, r.attacked_asset_type, r.ongoing, r.description, r.handling_status,
              r.severity, r.pool_id, r.participant_id, r.state, r.version, r.note, r.recorded_at,
              r.updated_at
         FROM jsonb_to_recordset($1::jsonb) AS r(security_event_id uuid, source varchar,
              event_id varchar, attack_time timestamptz, attacker_ip varchar, target_ip varchar,
              attack_method varchar, attacked_asset_type varchar, ongoing boolean,
              description varchar, handling_status varchar, severity varchar, pool_id varchar,
              participant_id varchar, state varchar, version integer, note varchar,
              recorded_at timestamptz, updated_at timestamptz)
       ON CONFLICT (source, event_id) DO NOTHING
       RETURNING event_id`,
      [
        JSON.stringify(
          events.map((e) => ({
            security_event_id: e.securityEventId,
            source: e.source,
            event_id: e.eventId,
            attack_time: e.attackTime.toISOString(),
            attacker_ip: e.attackerIp,
            target_ip: e.targetIp,
            attack_method: e.attackMethod,
            attacked_asset_type: e.attackedAssetType,
            ongoing: e.ongoing,
            description: e.description,
            handling_status: e.handlingStatus,
            severity: e.severity,
            pool_id: e.poolId,
            participant_id: e.participantId,
            state: e.state,
            version: e.version,
            note: e.note,
            recorded_at: e.recordedAt.toISOString(),
            updated_at: e.updatedAt.toISOString(),
          })),
        ),
      ],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /**
   * Events the source reported for the first time in the last `windowMs`, counted under a lock of
   * its submissions (to commit), so concurrent calls cannot both take its last places.
   */
  async recentOfSource(tx: Tx, source: string, windowMs: number): Promise<number> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 40415))`, [source]);
    const [{ count }] = await tx.manager.query<Array<{ count: number }>>(
      `SELECT count(*)::int AS count FROM attack_event
        WHERE source = $1 AND recorded_at > now() - make_interval(secs => $2::double precision / 1000)`,
      [source, windowMs],
    );
    return count;
  }

  /** The reporter's events with these ids, locked to the end of the transaction. */
  async lockBySource(
    tx: Tx,
    source: string,
    eventIds: readonly string[],
  ): Promise<AttackEventEntity[]> {
    if (eventIds.length === 0) return [];
    return tx.manager
      .getRepository(AttackEventEntity)
      .createQueryBuilder('e')
      .setLock('pessimistic_write')
      .where('e.source = :source AND e.event_id = ANY(:eventIds)', { source, eventIds })
      .orderBy('e.event_id')
      .getMany();
  }

  async lock(tx: Tx, securityEventId: string): Promise<AttackEventEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(AttackEventEntity)
        .createQueryBuilder('e')
        .setLock('pessimistic_write')
        .where('e.security_event_id = :securityEventId', { securityEventId })
        .getOne()) ?? undefined
    );
  }

  async save(tx: Tx, event: AttackEventEntity): Promise<void> {
    await tx.manager.getRepository(AttackEventEntity).save(event);
  }

  /** A page, newest attack first (ties by id, descending). */
  async list(
    filter: AttackEventFilter,
    after: PagePosition | undefined,
    limit: number,
  ): Promise<AttackEventEntity[]> {
    const query = this.uow.manager().getRepository(AttackEventEntity).createQueryBuilder('e');
    if (filter.state) query.andWhere('e.state = :state', { state: filter.state });
    if (filter.severities)
      query.andWhere('e.severity = ANY(:severities)', { severities: filter.severities });
    if (filter.source !== undefined)
      query.andWhere('e.source = :source', { source: filter.source });
    if (filter.attackTimeFrom)
      query.andWhere('e.attack_time >= :from', { from: filter.attackTimeFrom });
    if (filter.attackTimeTo) query.andWhere('e.attack_time < :to', { to: filter.attackTimeTo });
    if (filter.updatedFrom)
      query.andWhere('e.updated_at >= :updatedFrom', { updatedFrom: filter.updatedFrom });
    if (filter.excludeFalsePositives) query.andWhere(`e.state <> 'false_positive'`);
    if (after)
      query.andWhere('(e.attack_time, e.security_event_id) < (:afterTime, :afterId)', {
        afterTime: after.after,
        afterId: after.afterId,
      });
    return query
      .orderBy('e.attack_time', 'DESC')
      .addOrderBy('e.security_event_id', 'DESC')
      .limit(limit)
      .getMany();
  }
}
