import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { QualificationEntity } from './qualification.entity';

@Injectable()
export class QualificationsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async findById(id: string, tx?: Tx): Promise<QualificationEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(QualificationEntity).findOneBy({ id })) ?? undefined
    );
  }

  async insert(tx: Tx, qualification: QualificationEntity): Promise<void> {
    await tx.manager.getRepository(QualificationEntity).insert(qualification);
  }

  async lock(tx: Tx, id: string): Promise<QualificationEntity | undefined> {
    const row = await tx.manager
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .setLock('pessimistic_write')
      .where('q.id = :id', { id })
      .getOne();
    return row ?? undefined;
  }

  async save(tx: Tx, qualification: QualificationEntity): Promise<void> {
    await tx.manager.getRepository(QualificationEntity).save(qualification);
  }

  /** Expired qualifications whose expiry is not recorded yet, locked, skipping rows another replica holds. */
  claimExpired(tx: Tx, now: Date, limit: number): Promise<QualificationEntity[]> {
    return tx.manager
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('q.revoked_at IS NULL AND q.expiry_recorded_at IS NULL AND q.valid_until <= :now', {
        now,
      })
      .orderBy('q.valid_until', 'ASC')
      .limit(limit)
      .getMany();
  }

  /**
   * Qualifications of the participant not revoked and valid at `at`, latest end first. Inside a
   * transaction they are locked FOR SHARE: a revocation (which locks its row FOR UPDATE) waits for
   * that transaction to end.
   */
  findValidAt(participantId: string, at: Date, tx?: Tx): Promise<QualificationEntity[]> {
    const query = this.uow
      .manager(tx)
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .where('q.participant_id = :participantId AND q.revoked_at IS NULL', { participantId })
      .andWhere('q.valid_from <= :at AND q.valid_until > :at', { at })
      .orderBy('q.valid_until', 'DESC');
    if (tx) query.setLock('pessimistic_read');
    return query.getMany();
  }

  /** Newest first; one extra row tells whether another page exists. */
  list(
    participantId: string | undefined,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<QualificationEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(QualificationEntity)
      .createQueryBuilder('q')
      .orderBy('q.created_at', 'DESC')
      .addOrderBy('q.id', 'DESC')
      .limit(limit + 1);
    if (participantId) query.andWhere('q.participant_id = :participantId', { participantId });
    if (after)
      query.andWhere('(q.created_at, q.id) < (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
