import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ParticipantProjectionEntity } from './participant.entity';

@Injectable()
export class ParticipantsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(
    participantId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ParticipantProjectionEntity | undefined> {
    return (
      (await manager.getRepository(ParticipantProjectionEntity).findOneBy({ participantId })) ??
      undefined
    );
  }

  /**
   * Applies an event's view of a participant unless a later event already did (events of one
   * participant may arrive out of order across relay replicas). True when the row changed.
   */
  async upsertIfNewer(manager: EntityManager, row: ParticipantProjectionEntity): Promise<boolean> {
    const result = await manager.query<unknown[]>(
      `INSERT INTO participant_projection (participant_id, kind, state, event_time, event_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (participant_id) DO UPDATE
         SET kind = EXCLUDED.kind, state = EXCLUDED.state, event_time = EXCLUDED.event_time, event_id = EXCLUDED.event_id
         WHERE (participant_projection.event_time, participant_projection.event_id::text)
             < (EXCLUDED.event_time, EXCLUDED.event_id::text)
       RETURNING participant_id`,
      [row.participantId, row.kind, row.state, row.eventTime, row.eventId],
    );
    return result.length > 0;
  }
}
