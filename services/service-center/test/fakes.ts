import type { Tx } from '@cinode/database';
import { ApiKeyState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { FakeTable, FakeUnitOfWork, cloneRow, type Transactional } from '@cinode/testing';
import type { ApiKeyEntity } from '../src/api-keys/api-key.entity';
import { ApiKeysRepository } from '../src/api-keys/api-keys.repository';
import type { ParticipantTransitionEntity } from '../src/participants/participant-transition.entity';
import type { ParticipantEntity } from '../src/participants/participant.entity';
import { ParticipantsRepository } from '../src/participants/participants.repository';
import type { QualificationEntity } from '../src/qualifications/qualification.entity';
import { QualificationsRepository } from '../src/qualifications/qualifications.repository';

/** The public methods of a class: what a fake must implement. */
export type PublicOf<T> = { [K in keyof T]: T[K] };

/** A fake in the place of the real class (whose private fields a fake cannot have). */
export function asReal<T>(fake: PublicOf<T>): T {
  return fake as T;
}

const clone = <T>(value: T | undefined): T | undefined =>
  value === undefined ? undefined : cloneRow(value);

/** Participants and their transitions in memory; the tables roll back with the unit of work. */
export class FakeParticipantsRepository implements PublicOf<ParticipantsRepository>, Transactional {
  readonly table = new FakeTable<string, ParticipantEntity>();
  transitions: ParticipantTransitionEntity[] = [];

  get participants(): Map<string, ParticipantEntity> {
    return this.table.rows;
  }

  snapshot(): unknown {
    return { rows: this.table.snapshot(), transitions: [...this.transitions] };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as { rows: unknown; transitions: ParticipantTransitionEntity[] };
    this.table.restore(s.rows);
    this.transitions = s.transitions;
  }

  findById(id: string): Promise<ParticipantEntity | undefined> {
    return Promise.resolve(clone(this.table.rows.get(id)));
  }

  lock(_tx: Tx, id: string): Promise<ParticipantEntity | undefined> {
    return this.findById(id);
  }

  insert(_tx: Tx, participant: ParticipantEntity): Promise<void> {
    if (this.table.rows.has(participant.id))
      throw new Error(`duplicate participant ${participant.id}`);
    this.table.rows.set(participant.id, cloneRow(participant));
    return Promise.resolve();
  }

  save(_tx: Tx, participant: ParticipantEntity): Promise<void> {
    this.table.rows.set(participant.id, cloneRow(participant));
    return Promise.resolve();
  }

  recordTransition(_tx: Tx, transition: ParticipantTransitionEntity): Promise<void> {
    this.transitions.push(transition);
    return Promise.resolve();
  }

  list(): Promise<ParticipantEntity[]> {
    return Promise.resolve(this.table.values().map((p) => cloneRow(p)));
  }

  listTransitions(participantId: string): Promise<ParticipantTransitionEntity[]> {
    return Promise.resolve(this.transitions.filter((t) => t.participantId === participantId));
  }
}

export class FakeApiKeysRepository implements PublicOf<ApiKeysRepository>, Transactional {
  readonly table = new FakeTable<string, ApiKeyEntity>();

  get keys(): Map<string, ApiKeyEntity> {
    return this.table.rows;
  }

  snapshot(): unknown {
    return this.table.snapshot();
  }

  restore(snapshot: unknown): void {
    this.table.restore(snapshot);
  }

  findById(id: string): Promise<ApiKeyEntity | undefined> {
    return Promise.resolve(clone(this.table.rows.get(id)));
  }

  findByPrefix(prefix: string): Promise<ApiKeyEntity | undefined> {
    return Promise.resolve(clone(this.table.values().find((k) => k.prefix === prefix)));
  }

  lock(_tx: Tx, id: string): Promise<ApiKeyEntity | undefined> {
    return this.findById(id);
  }

  lockActive(_tx: Tx, participantId: string): Promise<ApiKeyEntity[]> {
    return Promise.resolve(
      this.table
        .values()
        .filter(
          (k) =>
            k.participantId === participantId &&
            k.state === (ApiKeyState.API_KEY_STATE_ACTIVE as number),
        )
        .map((k) => cloneRow(k)),
    );
  }

  insert(_tx: Tx, key: ApiKeyEntity): Promise<void> {
    if (this.table.values().some((k) => k.prefix === key.prefix))
      throw new Error(`duplicate prefix ${key.prefix}`);
    this.table.rows.set(key.id, cloneRow(key));
    return Promise.resolve();
  }

  insertIfPrefixAbsent(tx: Tx, key: ApiKeyEntity): Promise<boolean> {
    if (this.table.values().some((k) => k.prefix === key.prefix)) return Promise.resolve(false);
    return this.insert(tx, key).then(() => true);
  }

  save(_tx: Tx, key: ApiKeyEntity): Promise<void> {
    this.table.rows.set(key.id, cloneRow(key));
    return Promise.resolve();
  }

  touchLastUsed(_tx: Tx, id: string, at: Date): Promise<void> {
    const key = this.table.rows.get(id);
    if (key) key.lastUsedAt = at;
    return Promise.resolve();
  }

  list(participantId: string): Promise<ApiKeyEntity[]> {
    return Promise.resolve(
      this.table
        .values()
        .filter((k) => k.participantId === participantId)
        .map((k) => cloneRow(k)),
    );
  }
}

export class FakeQualificationsRepository
  implements PublicOf<QualificationsRepository>, Transactional
{
  readonly table = new FakeTable<string, QualificationEntity>();

  get qualifications(): Map<string, QualificationEntity> {
    return this.table.rows;
  }

  snapshot(): unknown {
    return this.table.snapshot();
  }

  restore(snapshot: unknown): void {
    this.table.restore(snapshot);
  }

  findById(id: string): Promise<QualificationEntity | undefined> {
    return Promise.resolve(clone(this.table.rows.get(id)));
  }

  insert(_tx: Tx, qualification: QualificationEntity): Promise<void> {
    this.table.rows.set(qualification.id, cloneRow(qualification));
    return Promise.resolve();
  }

  lock(_tx: Tx, id: string): Promise<QualificationEntity | undefined> {
    return this.findById(id);
  }

  save(_tx: Tx, qualification: QualificationEntity): Promise<void> {
    this.table.rows.set(qualification.id, cloneRow(qualification));
    return Promise.resolve();
  }

  claimExpired(_tx: Tx, now: Date, limit: number): Promise<QualificationEntity[]> {
    return Promise.resolve(
      this.table
        .values()
        .filter(
          (q) => !q.revokedAt && !q.expiryRecordedAt && q.validUntil.getTime() <= now.getTime(),
        )
        .sort((a, b) => a.validUntil.getTime() - b.validUntil.getTime())
        .slice(0, limit)
        .map((q) => cloneRow(q)),
    );
  }

  findValidAt(participantId: string, at: Date): Promise<QualificationEntity[]> {
    return Promise.resolve(
      this.table
        .values()
        .filter(
          (q) =>
            q.participantId === participantId &&
            !q.revokedAt &&
            q.validFrom.getTime() <= at.getTime() &&
            q.validUntil.getTime() > at.getTime(),
        )
        .sort((a, b) => b.validUntil.getTime() - a.validUntil.getTime())
        .map((q) => cloneRow(q)),
    );
  }

  list(participantId: string | undefined): Promise<QualificationEntity[]> {
    return Promise.resolve(
      this.table
        .values()
        .filter((q) => !participantId || q.participantId === participantId)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
        .map((q) => cloneRow(q)),
    );
  }
}

/** Every fake table of the service center behind one unit of work. */
export function fakeStore() {
  const participants = new FakeParticipantsRepository();
  const keys = new FakeApiKeysRepository();
  const qualifications = new FakeQualificationsRepository();
  const uow = new FakeUnitOfWork(participants, keys, qualifications);
  return {
    participants,
    keys,
    qualifications,
    uow,
    /** Committed events as `{ type, data }`. */
    get events(): { type: string; data: unknown }[] {
      return uow.events.map((e) => ({ type: e.type, data: e.data }));
    },
  };
}
