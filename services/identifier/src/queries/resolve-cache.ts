import { Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectConfig } from '@cinode/kit';
import { ExpiringCache } from '@cinode/common';
import { UnitOfWork, type NotificationListener } from '@cinode/database';
import type { IdentifierConfig } from '../config';
import type { IdentifierRecord } from '../identifiers/identifiers.repository';
import { IDENTIFIER_CHANGED_CHANNEL } from '../migrations/1796500000000-identifier-change-notifications';

/** Identifiers remembered at most; the one remembered longest ago goes first. */
const CAPACITY = 10_000;

/**
 * Resolved identifiers, remembered for ResolveIdentifier (RESOLVE_CACHE_MS, 0: off). An entry is
 * dropped the moment its identifier changes, by whom ever (a trigger announces every change of an
 * identifier or its history on `identifier_changed` at commit), and is never older than
 * RESOLVE_CACHE_MS, which bounds what a silently stalled notification connection could serve. While
 * the listener is not connected nothing is remembered or served, and a lost connection empties the
 * cache. A read that overlapped any change is not remembered, so no entry predates a change it
 * missed. Access is checked per call on the entry, as on a fresh read.
 */
@Injectable()
export class ResolveCache implements OnModuleInit, BeforeApplicationShutdown {
  private readonly records = new ExpiringCache<string, IdentifierRecord>(CAPACITY);
  private readonly ttlMs: number;
  private listener: NotificationListener | undefined;
  private listening = false;
  /** Changes announced so far (and connection losses): a read spanning one is not remembered. */
  private changes = 0;

  constructor(
    private readonly uow: UnitOfWork,
    @InjectConfig() config: IdentifierConfig,
  ) {
    this.ttlMs = config.RESOLVE_CACHE_MS;
  }

  async onModuleInit(): Promise<void> {
    if (this.ttlMs <= 0) return;
    // The connection is checked every half lifetime, so one that died silently (a half-open
    // socket after a partition) stops the cache within RESOLVE_CACHE_MS.
    this.listener = this.uow.listen(IDENTIFIER_CHANGED_CHANNEL, Math.max(250, this.ttlMs / 2), {
      notified: (identifier) => {
        this.changes += 1;
        // An empty payload: a whole table changed (TRUNCATE).
        if (identifier === '') this.records.clear();
        else this.records.delete(identifier);
      },
      listening: () => {
        // A read that began before LISTEN was in place may have missed a change: not kept.
        this.changes += 1;
        this.listening = true;
      },
      lost: () => {
        this.listening = false;
        this.changes += 1;
        this.records.clear();
      },
    });
    await this.listener.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.listener?.stop();
  }

  /** Where a read begins: hand it back to remember() with what it read. */
  mark(): number {
    return this.changes;
  }

  get(identifier: string): IdentifierRecord | undefined {
    return this.listening ? this.records.get(identifier) : undefined;
  }

  remember(identifier: string, record: IdentifierRecord, mark: number): void {
    if (!this.listening || mark !== this.changes) return;
    this.records.set(identifier, record, Date.now() + this.ttlMs);
  }
}
