import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { ObjectTypeCode } from '../format/identifier-format';
import type { IdentifierStateName, SuspensionCauseName } from './identifier-lifecycle';
import { IdentifierTransitionEntity } from './identifier-transition.entity';
import { IdentifierEntity } from './identifier.entity';

export type NewTransition = Omit<IdentifierTransitionEntity, 'id'>;

export interface IdentifierFilter {
  ownerParticipantId?: string;
  objectType?: ObjectTypeCode;
  state?: IdentifierStateName;
}

export type IdentifierPatch = Partial<
  Pick<
    IdentifierEntity,
    'state' | 'suspensionCause' | 'filingNumber' | 'filingError' | 'filedAt' | 'stateChangedAt'
  >
>;

/** Every query of identifiers and their history. Methods taking a manager run in the caller's transaction. */
@Injectable()
export class IdentifiersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async nextSerial(manager: EntityManager): Promise<number> {
    const [row] = await manager.query<{ serial: string }[]>(
      `SELECT nextval('identifier_serial_seq') AS serial`,
    );
    return Number(row.serial);
  }

  /** Inserts the record; false when its idempotency key is taken (a concurrent retry won). */
  async insertIfAbsent(manager: EntityManager, entity: IdentifierEntity): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(IdentifierEntity)
      .values(entity)
      .orIgnore()
      .returning(['identifier'])
      .execute();
    return result.raw instanceof Array && result.raw.length > 0;
  }

  async findByIdempotencyKey(
    key: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<IdentifierEntity | undefined> {
    return (
      (await manager.getRepository(IdentifierEntity).findOneBy({ idempotencyKey: key })) ??
      undefined
    );
  }

  async find(
    identifier: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<IdentifierEntity | undefined> {
    return (await manager.getRepository(IdentifierEntity).findOneBy({ identifier })) ?? undefined;
  }

  /** Reads and row-locks one identifier until the transaction ends. */
  async findForUpdate(
    manager: EntityManager,
    identifier: string,
  ): Promise<IdentifierEntity | undefined> {
    return (
      (await manager
        .getRepository(IdentifierEntity)
        .createQueryBuilder('i')
        .setLock('pessimistic_write')
        .where('i.identifier = :identifier', { identifier })
        .getOne()) ?? undefined
    );
  }

  /** Row-locks an owner's identifiers in a state (and suspension cause), for cascades. */
  findOwnedForUpdate(
    manager: EntityManager,
    ownerParticipantId: string,
    state: IdentifierStateName,
    causes?: SuspensionCauseName[],
  ): Promise<IdentifierEntity[]> {
    const query = manager
      .getRepository(IdentifierEntity)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where('i.owner_participant_id = :owner', { owner: ownerParticipantId })
      .andWhere('i.state = :state', { state })
      .orderBy('i.serial', 'ASC');
    if (causes) query.andWhere('i.suspension_cause IN (:...causes)', { causes });
    return query.getMany();
  }

  async update(manager: EntityManager, identifier: string, patch: IdentifierPatch): Promise<void> {
    await manager.getRepository(IdentifierEntity).update({ identifier }, patch);
  }

  async addTransitions(manager: EntityManager, transitions: NewTransition[]): Promise<void> {
    if (transitions.length > 0)
      await manager.getRepository(IdentifierTransitionEntity).insert(transitions);
  }

  transitions(
    identifier: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<IdentifierTransitionEntity[]> {
    return manager
      .getRepository(IdentifierTransitionEntity)
      .find({ where: { identifier }, order: { id: 'ASC' } });
  }

  /** One page in serial (= issue) order; fetches one extra row to know whether another page exists. */
  list(
    filter: IdentifierFilter,
    limit: number,
    afterSerial: number | undefined,
  ): Promise<IdentifierEntity[]> {
    const query = this.dataSource
      .getRepository(IdentifierEntity)
      .createQueryBuilder('i')
      .orderBy('i.serial', 'ASC')
      .limit(limit + 1);
    if (filter.ownerParticipantId)
      query.andWhere('i.owner_participant_id = :owner', { owner: filter.ownerParticipantId });
    if (filter.objectType) query.andWhere('i.object_type = :type', { type: filter.objectType });
    if (filter.state) query.andWhere('i.state = :state', { state: filter.state });
    if (afterSerial !== undefined) query.andWhere('i.serial > :after', { after: afterSerial });
    return query.getMany();
  }
}
