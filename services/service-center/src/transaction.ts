import type { OutboxPublisher } from '@cinode/events';
import type { DataSource, EntityManager } from 'typeorm';
import type { PendingEvent } from './outbox-events';

/** What every feature transaction can do besides its own queries: emit events through the outbox. */
export interface EventSink {
  emit(events: PendingEvent[]): Promise<void>;
}

/** Runs `work` in one transaction whose events commit with it (or not at all). */
export function inTransaction<T, Tx>(
  dataSource: DataSource,
  outbox: OutboxPublisher,
  makeTx: (manager: EntityManager, sink: EventSink) => Tx,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(async (manager) => {
    const sink: EventSink = {
      emit: async (events) => {
        if (events.length > 0) await outbox.enqueueMany(manager, events);
      },
    };
    return work(makeTx(manager, sink));
  });
}

/** Database time at millisecond precision, so keyset page tokens round-trip exactly. */
export function nowMs(): Date {
  return new Date(Date.now());
}
