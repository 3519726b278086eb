import { EntityManager } from 'typeorm';
import { EventEnvelope, NewEvent, createEnvelope } from '../envelope';

export const DEFAULT_OUTBOX_CHANNEL = 'outbox_event';

/**
 * Writes events into the outbox inside the caller's transaction, so an event exists if and only if
 * the state change it describes committed. Publication is the relay's job.
 */
export class OutboxPublisher {
  constructor(
    readonly source: string,
    private readonly channel: string = DEFAULT_OUTBOX_CHANNEL,
  ) {}

  /** `manager` must be the transaction's EntityManager (e.g. from `dataSource.transaction(m => ...)`). */
  async enqueue<T>(manager: EntityManager, event: NewEvent<T>): Promise<EventEnvelope<T>> {
    const [envelope] = await this.enqueueMany(manager, [event]);
    return envelope;
  }

  async enqueueMany<T>(manager: EntityManager, events: NewEvent<T>[]): Promise<EventEnvelope<T>[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(
        'OutboxPublisher.enqueue must be called with the EntityManager of an open transaction',
      );
    }
    const envelopes = events.map((event) => createEnvelope(this.source, event));
    if (envelopes.length === 0) return envelopes;
    const values: unknown[] = [];
    const rows = envelopes.map((e, i) => {
      values.push(
        e.id,
        e.type,
        e.source,
        e.schemaVersion,
        e.time,
        JSON.stringify(e.data),
        e.traceContext ? JSON.stringify(e.traceContext) : null,
      );
      const p = i * 7;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}::jsonb, $${p + 7}::jsonb)`;
    });
    await manager.query(
      `INSERT INTO outbox_event (id, type, source, schema_version, occurred_at, data, trace_context) VALUES ${rows.join(', ')}`,
      values,
    );
    // Delivered only when the transaction commits, which is exactly when the relay may see the rows.
    await manager.query(`SELECT pg_notify($1, '')`, [this.channel]);
    return envelopes;
  }
}
