import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { ParticipantProjectionEntity } from './participant-projection.entity';

@Injectable()
export class ParticipantsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async find(participantId: string, tx?: Tx): Promise<ParticipantProjectionEntity | undefined> {
    return (
      (await this.uow
        .manager(tx)
        .getRepository(ParticipantProjectionEntity)
        .findOneBy({ participantId })) ?? undefined
    );
  }

  /**
   * Reads the owner's projection FOR SHARE: a participant event that would change it (and cascade
   * to the owner's identifiers) waits until this transaction ends, so a change made on the strength
   * of the owner's state (a filing, a reinstatement) cannot slip past a suspension.
   */
  async lockShared(
    tx: Tx,
    participantId: string,
  ): Promise<ParticipantProjectionEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(ParticipantProjectionEntity)
        .createQueryBuilder('p')
        .setLock('pessimistic_read')
        .where('p.participant_id = :participantId', { participantId })
        .getOne()) ?? undefined
    );
  }

  /**
   * Stores an event's view of a participant unless the row already holds this version or a later
   * one (a participant's events may arrive out of order, or again). True when the row advanced.
   */
  async applyIfNewer(tx: Tx, row: ParticipantProjectionEntity): Promise<boolean> {
    const result = await this.uow.manager(tx).query<unknown[]>(
      `INSERT INTO participant_projection
         (participant_id, version, kind, state, legal_name, credit_code, event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (participant_id) DO UPDATE
         SET version = EXCLUDED.version, kind = EXCLUDED.kind, state = EXCLUDED.state,
             legal_name = EXCLUDED.legal_name, credit_code = EXCLUDED.credit_code,
             event_id = EXCLUDED.event_id
         WHERE participant_projection.version < EXCLUDED.version
       RETURNING participant_id`,
      [
        row.participantId,
        row.version,
        row.kind,
        row.state,
        row.legalName,
        row.creditCode,
        row.eventId,
      ],
    );
    return result.length > 0;
  }
}
