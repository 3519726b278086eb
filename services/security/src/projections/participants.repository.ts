import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';

/** The projections of other services' state this service keeps: participants and pools. */
@Injectable()
export class ParticipantsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async exists(participantId: string): Promise<boolean> {
    const rows = await this.uow
      .manager()
      .query<
        unknown[]
      >(`SELECT 1 FROM participant_standing WHERE participant_id = $1`, [participantId]);
    return rows.length > 0;
  }

  /** Records a participant's state unless a newer version is recorded; the previous state if it was. */
  async recordStanding(
    tx: Tx,
    standing: { participantId: string; kind: string; state: string; version: number },
  ): Promise<{ applied: boolean; previousState: string | undefined }> {
    const before = await tx.manager.query<Array<{ state: string }>>(
      `SELECT state FROM participant_standing WHERE participant_id = $1 FOR UPDATE`,
      [standing.participantId],
    );
    const rows = await tx.manager.query<unknown[]>(
      `INSERT INTO participant_standing (participant_id, kind, state, version) VALUES ($1, $2, $3, $4)
       ON CONFLICT (participant_id) DO UPDATE
         SET kind = excluded.kind, state = excluded.state, version = excluded.version
       WHERE participant_standing.version < excluded.version
       RETURNING participant_id`,
      [standing.participantId, standing.kind, standing.state, standing.version],
    );
    return { applied: rows.length > 0, previousState: before[0]?.state };
  }

  /** Records a participant read from the service center, unless known already (version 0). */
  async recordStandingIfAbsent(standing: {
    participantId: string;
    kind: string;
    state: string;
  }): Promise<boolean> {
    const rows = await this.uow.manager().query<unknown[]>(
      `INSERT INTO participant_standing (participant_id, kind, state, version) VALUES ($1, $2, $3, 0)
       ON CONFLICT (participant_id) DO NOTHING RETURNING participant_id`,
      [standing.participantId, standing.kind.slice(0, 32), standing.state.slice(0, 16)],
    );
    return rows.length > 0;
  }

  /** Records a pool's owner; true when the pool was new here. */
  async recordPool(
    tx: Tx,
    pool: { poolId: string; providerParticipantId: string; securityLevel: number },
  ): Promise<boolean> {
    const rows = await tx.manager.query<unknown[]>(
      `INSERT INTO known_pool (pool_id, provider_participant_id, security_level) VALUES ($1, $2, $3)
       ON CONFLICT (pool_id) DO NOTHING RETURNING pool_id`,
      [pool.poolId, pool.providerParticipantId, pool.securityLevel],
    );
    return rows.length > 0;
  }
}
