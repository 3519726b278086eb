import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { ParticipantTransitionEntity } from './participant-transition.entity';
import { ParticipantEntity } from './participant.entity';

export interface ParticipantFilter {
  kind?: number;
  state?: number;
  nameContains?: string;
  /** Restricts the list to one participant (a participant listing itself). */
  onlyId?: string;
}

/** Every query of participants and their transitions; writes take the unit of work's Tx. */
@Injectable()
export class ParticipantsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async findById(id: string, tx?: Tx): Promise<ParticipantEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(ParticipantEntity).findOneBy({ id })) ?? undefined
    );
  }

  /**
   * Reads and locks a participant until the transaction ends: FOR UPDATE to change it, FOR SHARE
   * to act on the strength of its state (a grant, a rotation) without a change slipping in between.
   */
  async lock(
    tx: Tx,
    id: string,
    mode: 'update' | 'share' = 'update',
  ): Promise<ParticipantEntity | undefined> {
    const row = await tx.manager
      .getRepository(ParticipantEntity)
      .createQueryBuilder('p')
      .setLock(mode === 'update' ? 'pessimistic_write' : 'pessimistic_read')
      .where('p.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async insert(tx: Tx, participant: ParticipantEntity): Promise<void> {
    await tx.manager.getRepository(ParticipantEntity).insert(participant);
  }

  async save(tx: Tx, participant: ParticipantEntity): Promise<void> {
    await tx.manager.getRepository(ParticipantEntity).save(participant);
  }

  async recordTransition(tx: Tx, transition: ParticipantTransitionEntity): Promise<void> {
    await tx.manager.getRepository(ParticipantTransitionEntity).insert(transition);
  }

  /** Newest first; one extra row tells whether another page exists. */
  list(
    filter: ParticipantFilter,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<ParticipantEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(ParticipantEntity)
      .createQueryBuilder('p')
      .orderBy('p.created_at', 'DESC')
      .addOrderBy('p.id', 'DESC')
      .limit(limit + 1);
    if (filter.kind) query.andWhere('p.kind = :kind', { kind: filter.kind });
    if (filter.state) query.andWhere('p.state = :state', { state: filter.state });
    if (filter.onlyId) query.andWhere('p.id = :onlyId', { onlyId: filter.onlyId });
    if (filter.nameContains) {
      // ILIKE with the user's text escaped, so % and _ match themselves.
      const pattern = `%${filter.nameContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere(`p.name ILIKE :pattern ESCAPE '\\'`, { pattern });
    }
    if (after)
      query.andWhere('(p.created_at, p.id) < (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }

  /** A participant's transitions, oldest first; one extra row tells whether another page exists. */
  listTransitions(
    participantId: string,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<ParticipantTransitionEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(ParticipantTransitionEntity)
      .createQueryBuilder('e')
      .where('e.participant_id = :participantId', { participantId })
      .orderBy('e.created_at', 'ASC')
      .addOrderBy('e.id', 'ASC')
      .limit(limit + 1);
    if (after)
      query.andWhere('(e.created_at, e.id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
