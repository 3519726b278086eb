import { Injectable } from '@nestjs/common';
import { UnitOfWork, sqlStateOf, type Tx } from '@cinode/database';
import { serialsExhausted } from '../errors';
import type { ObjectTypeCode } from '../format/identifier-format';
import type { IdentifierStateName, SuspensionCauseName } from './identifier-states';
import { IdentifierTransitionEntity } from './identifier-transition.entity';
import { PoolLiveStateEntity } from '../pool-states/pool-live-state.entity';
import { IdentifierEntity } from './identifier.entity';

export type NewTransition = Omit<IdentifierTransitionEntity, 'id' | 'identifierRecord'>;

/** An identifier with its whole history, as Issue, Resolve and the lifecycle RPCs answer it. */
export interface IdentifierRecord {
  entity: IdentifierEntity;
  transitions: IdentifierTransitionEntity[];
  /** A resource pool's live state, once resource aggregation has announced it. */
  poolState?: PoolLiveStateEntity;
}

export interface IdentifierFilter {
  ownerParticipantId?: string;
  objectType?: ObjectTypeCode;
  state?: IdentifierStateName;
}

export type IdentifierPatch = Partial<
  Pick<
    IdentifierEntity,
    | 'state'
    | 'suspensionCause'
    | 'filingNumber'
    | 'filingError'
    | 'filedAt'
    | 'stateChangedAt'
    | 'version'
  >
>;

/** One identifier row and its transitions as [id, from, to, actor, reason, changed_at], in order. */
const RECORD_QUERY = `
  SELECT i.identifier, i.serial, i.node_code, i.object_type, i.object_name,
         i.owner_participant_id, i.owner_name, i.owner_credit_code, i.attributes, i.state,
         i.suspension_cause, i.filing_number, i.filing_error, i.filed_at, i.issued_by, i.issued_at,
         i.state_changed_at, i.version,
         COALESCE((SELECT json_agg(json_build_array(t.id::text, t.from_state, t.to_state, t.actor,
                                                    t.reason, t.changed_at) ORDER BY t.id)
                     FROM identifier_transition t WHERE t.identifier = i.identifier), '[]'::json)
           AS transitions,
         (SELECT row_to_json(p) FROM pool_live_state p WHERE p.identifier = i.identifier)
           AS pool_state
    FROM identifier i
   WHERE i.identifier = $1`;

interface RecordRow {
  identifier: string;
  serial: string;
  node_code: string;
  object_type: ObjectTypeCode;
  object_name: string;
  owner_participant_id: string;
  owner_name: string;
  owner_credit_code: string;
  attributes: Record<string, string>;
  state: IdentifierStateName;
  suspension_cause: SuspensionCauseName | null;
  filing_number: string | null;
  filing_error: string | null;
  filed_at: Date | null;
  issued_by: string;
  issued_at: Date;
  state_changed_at: Date;
  version: number;
  transitions: [string, IdentifierStateName | null, IdentifierStateName, string, string, string][];
  /** The pool_live_state row as JSON (bigints as numbers, timestamps as strings), or null. */
  pool_state: {
    version: number;
    state: string;
    reported: boolean;
    cpu_cores_free: number;
    gpu_cards_free: number;
    npu_cards_free: number;
    fp16_tflops_free: number;
    fp32_tflops_free: number;
    memory_gib_free: number;
    storage_gib_free: number;
    last_reported_at: string | null;
    updated_at: string;
  } | null;
}

/**
 * Every query of identifiers and their history. Writes take the unit of work's Tx; reads take an
 * optional one (without it they read from the pool).
 */
@Injectable()
export class IdentifiersRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async nextSerial(tx: Tx): Promise<number> {
    try {
      const [row] = await this.uow
        .manager(tx)
        .query<{ serial: string }[]>(`SELECT nextval('identifier_serial_seq') AS serial`);
      return Number(row.serial);
    } catch (error: unknown) {
      // 2200H: the sequence reached its MAXVALUE (99999999, NO CYCLE).
      if (sqlStateOf(error) === '2200H') throw serialsExhausted();
      throw error;
    }
  }

  async insert(tx: Tx, entity: IdentifierEntity): Promise<void> {
    await this.uow.manager(tx).getRepository(IdentifierEntity).insert(entity);
  }

  async find(identifier: string, tx?: Tx): Promise<IdentifierEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(IdentifierEntity).findOneBy({ identifier })) ??
      undefined
    );
  }

  /** Reads and row-locks one identifier until the transaction ends. */
  async findForUpdate(tx: Tx, identifier: string): Promise<IdentifierEntity | undefined> {
    return (
      (await this.uow
        .manager(tx)
        .getRepository(IdentifierEntity)
        .createQueryBuilder('i')
        .setLock('pessimistic_write')
        .where('i.identifier = :identifier', { identifier })
        .getOne()) ?? undefined
    );
  }

  /** Row-locks an owner's identifiers in a state (and suspension cause), in serial order, for cascades. */
  findOwnedForUpdate(
    tx: Tx,
    ownerParticipantId: string,
    state: IdentifierStateName,
    causes?: readonly SuspensionCauseName[],
  ): Promise<IdentifierEntity[]> {
    const query = this.uow
      .manager(tx)
      .getRepository(IdentifierEntity)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where('i.owner_participant_id = :owner', { owner: ownerParticipantId })
      .andWhere('i.state = :state', { state })
      .orderBy('i.serial', 'ASC');
    if (causes) query.andWhere('i.suspension_cause IN (:...causes)', { causes: [...causes] });
    return query.getMany();
  }

  async update(tx: Tx, identifier: string, patch: IdentifierPatch): Promise<void> {
    await this.uow.manager(tx).getRepository(IdentifierEntity).update({ identifier }, patch);
  }

  async addTransitions(tx: Tx, transitions: NewTransition[]): Promise<void> {
    if (transitions.length > 0)
      await this.uow.manager(tx).getRepository(IdentifierTransitionEntity).insert(transitions);
  }

  transitions(identifier: string, tx?: Tx): Promise<IdentifierTransitionEntity[]> {
    return this.uow
      .manager(tx)
      .getRepository(IdentifierTransitionEntity)
      .find({ where: { identifier }, order: { id: 'ASC' } });
  }

  /**
   * The identifier with its history in one round trip (ResolveIdentifier's read path): one query,
   * rows mapped here rather than by the ORM, which cost more than the query itself.
   */
  async findRecord(identifier: string): Promise<IdentifierRecord | undefined> {
    const rows = await this.uow.read<RecordRow>('identifier_record', RECORD_QUERY, [identifier]);
    const row = rows[0];
    if (!row) return undefined;
    const entity = Object.assign(new IdentifierEntity(), {
      identifier: row.identifier,
      serial: Number(row.serial),
      nodeCode: row.node_code,
      objectType: row.object_type,
      objectName: row.object_name,
      ownerParticipantId: row.owner_participant_id,
      ownerName: row.owner_name,
      ownerCreditCode: row.owner_credit_code,
      attributes: row.attributes,
      state: row.state,
      suspensionCause: row.suspension_cause,
      filingNumber: row.filing_number,
      filingError: row.filing_error,
      filedAt: row.filed_at,
      issuedBy: row.issued_by,
      issuedAt: row.issued_at,
      stateChangedAt: row.state_changed_at,
      version: row.version,
    });
    const transitions = row.transitions.map(([id, fromState, toState, actor, reason, changedAt]) =>
      Object.assign(new IdentifierTransitionEntity(), {
        id,
        identifier: row.identifier,
        fromState,
        toState,
        actor,
        reason,
        changedAt: new Date(changedAt),
      }),
    );
    const pool = row.pool_state;
    const poolState = pool
      ? Object.assign(new PoolLiveStateEntity(), {
          identifier: row.identifier,
          version: Number(pool.version),
          state: pool.state,
          reported: pool.reported,
          cpuCoresFree: Number(pool.cpu_cores_free),
          gpuCardsFree: Number(pool.gpu_cards_free),
          npuCardsFree: Number(pool.npu_cards_free),
          fp16TflopsFree: pool.fp16_tflops_free,
          fp32TflopsFree: pool.fp32_tflops_free,
          memoryGibFree: Number(pool.memory_gib_free),
          storageGibFree: Number(pool.storage_gib_free),
          lastReportedAt: pool.last_reported_at === null ? null : new Date(pool.last_reported_at),
          updatedAt: new Date(pool.updated_at),
        })
      : undefined;
    return { entity, transitions, poolState };
  }

  /** The identifier with its history. */
  async record(entity: IdentifierEntity, tx?: Tx): Promise<IdentifierRecord> {
    return { entity, transitions: await this.transitions(entity.identifier, tx) };
  }

  /** One page in serial (= issue) order; fetches one extra row to know whether another page exists. */
  list(
    filter: IdentifierFilter,
    limit: number,
    afterSerial: number | undefined,
  ): Promise<IdentifierEntity[]> {
    const query = this.uow
      .manager()
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
