import type { EventMessage } from '@cinode/contracts';
import type { OutboxWriter } from '@cinode/database';
import type { EntityManager } from 'typeorm';
import { EventEnvelope, createEnvelope } from '../envelope';

export const DEFAULT_OUTBOX_CHANNEL = 'outbox_event';

/**
 * Writes events into the outbox inside the caller's transaction, so an event exists if and only if
 * the state change it describes committed. Publication is the relay's job. Services reach it
 * through `tx.emit(...)` of a unit of work.
 */
export class OutboxPublisher implements OutboxWriter {
  constructor(
    readonly source: string,
    private readonly channel: string = DEFAULT_OUTBOX_CHANNEL,
  ) {}

  async write(manager: EntityManager, events: readonly EventMessage[]): Promise<EventEnvelope[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('the outbox is written only inside a transaction');
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
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7}::jsonb)`;
    });
    values.push(this.channel);
    // One statement, one round trip: a data-modifying WITH runs whether or not it is read. The
    // NOTIFY is delivered only when the transaction commits, exactly when the relay may see the
    // rows.
    await manager.query(
      `WITH written AS (INSERT INTO outbox_event (id, type, source, schema_version, occurred_at, data, trace_context) VALUES ${rows.join(', ')})
       SELECT pg_notify($${values.length}, '')`,
      values,
    );
    return envelopes;
  }
}
