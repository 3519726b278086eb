import { setTimeout as sleep } from 'node:timers/promises';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { QUARANTINE_BUCKET } from '@cinode/contracts';
import { quarantinedParticipants, quarantineWatchSynced } from '@cinode/telemetry';
import type { NatsConnection } from 'nats';

/** What one watch of the quarantine bucket reports, in order. */
export interface QuarantineWatchHandlers {
  /** A participant is quarantined (a key written: its current value, or a new one). */
  put(participantId: string): void;
  /** A participant's quarantine was lifted (its key deleted or purged). */
  remove(participantId: string): void;
  /** Every key the bucket held when the watch began has been reported. */
  synced(): void;
}

/**
 * Where the list of quarantined participants comes from. `watch` reports the bucket's current keys,
 * then `synced`, then every change, until the signal aborts (it then resolves) or the watch breaks
 * (it resolves or rejects: either way a new watch starts from the bucket's current keys).
 */
export interface QuarantineSource {
  watch(handlers: QuarantineWatchHandlers, signal: AbortSignal): Promise<void>;
}

export const QUARANTINE_SOURCE = Symbol('QUARANTINE_SOURCE');
export const QUARANTINE_LIST_OPTIONS = Symbol('QUARANTINE_LIST_OPTIONS');

/**
 * The bucket on JetStream, created when missing (one value per key, no expiry: the security
 * service creates it the same way and deletes a key when it lifts a quarantine). An existing
 * bucket's settings are left as they are.
 */
export function natsQuarantineSource(
  nc: NatsConnection,
  bucket: string = QUARANTINE_BUCKET,
): QuarantineSource {
  return {
    async watch(handlers, signal) {
      const kv = await nc.jetstream().views.kv(bucket, { history: 1 });
      if (signal.aborted) return;
      // initializedFn runs in the iteration, after the entries delivered before it (or at once for
      // an empty bucket), so `synced` comes after every initial key.
      const entries = await kv.watch({ initializedFn: () => handlers.synced() });
      const stop = (): void => entries.stop();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const entry of entries) {
          if (entry.operation === 'PUT') handlers.put(entry.key);
          else handlers.remove(entry.key);
        }
      } finally {
        signal.removeEventListener('abort', stop);
      }
    },
  };
}

export interface QuarantineListOptions {
  /** Delay before re-watching after the first break; doubles per break in a row. */
  retryInitialMs?: number;
  /** Longest delay between two attempts. */
  retryMaxMs?: number;
  /** How long start-up waits for the first sync before serving without it. */
  startupWaitMs?: number;
}

const DEFAULTS: Required<QuarantineListOptions> = {
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  startupWaitMs: 5_000,
};

/**
 * The participants the security service has quarantined, kept in memory from the JetStream bucket
 * it writes (QUARANTINE_BUCKET): the call pipeline refuses their calls (AccessControls).
 *
 * Start-up waits a little for the bucket's current keys, then serves whether or not they came (a
 * node whose NATS is away must still start, for its operators and services; a warning says the
 * list is not known yet, and participants are refused UNAVAILABLE until it is — AccessControls).
 * When the
 * watch breaks the last known list stays in force while it is watched again, with a growing delay;
 * a new watch first adds what it reports, and only once synced drops participants it no longer
 * lists, so a reconnection never lets a quarantined participant through in between.
 */
@Injectable()
export class QuarantineList implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Quarantine');
  private readonly options: Required<QuarantineListOptions>;
  private current = new Set<string>();
  private syncedOnce = false;
  private readonly stopping = new AbortController();
  private running?: Promise<void>;
  private firstSync?: () => void;

  constructor(
    @Inject(QUARANTINE_SOURCE) private readonly source: QuarantineSource,
    @Optional() @Inject(QUARANTINE_LIST_OPTIONS) options: QuarantineListOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Whether this participant id is quarantined, as last known. */
  has(participantId: string): boolean {
    return this.current.has(participantId);
  }

  /** How many participants are quarantined, as last known. */
  get size(): number {
    return this.current.size;
  }

  /** Whether the bucket's keys were read completely at least once. */
  get synced(): boolean {
    return this.syncedOnce;
  }

  async onApplicationBootstrap(): Promise<void> {
    const synced = new Promise<void>((resolve) => (this.firstSync = resolve));
    this.running = this.run();
    const waited = await Promise.race([
      synced.then(() => true),
      sleep(this.options.startupWaitMs, false, { ref: false }),
    ]);
    if (!waited)
      this.logger.warn(
        `the quarantine list (${QUARANTINE_BUCKET}) is not read yet: participants' calls are refused UNAVAILABLE until it is (GRPC_QUARANTINE_UNREAD=serve serves them meanwhile)`,
      );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  /** Watches until shutdown, again after every break. */
  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      let syncedThisWatch = false;
      try {
        await this.watchOnce(signal, () => {
          syncedThisWatch = true;
          failures = 0;
        });
        if (signal.aborted) return;
        this.logger.warn('the quarantine watch ended; watching again (the last known list holds)');
      } catch (error) {
        if (signal.aborted) return;
        this.logger.warn(
          `the quarantine watch failed (${error instanceof Error ? error.message : String(error)}); watching again (the last known list holds)`,
        );
      }
      if (!syncedThisWatch) failures += 1;
      const delay = Math.min(
        this.options.retryMaxMs,
        this.options.retryInitialMs * 2 ** Math.min(20, Math.max(0, failures - 1)),
      );
      await sleep(delay, undefined, { signal, ref: false }).catch(() => undefined);
    }
  }

  private watchOnce(signal: AbortSignal, onSynced: () => void): Promise<void> {
    // Until this watch is synced the list is the last known one plus what it reports; once synced
    // it is exactly what it reported.
    let fresh: Set<string> | undefined = new Set<string>();
    return this.source
      .watch(
        {
          put: (id) => {
            fresh?.add(id);
            this.current.add(id);
            this.changed();
          },
          remove: (id) => {
            fresh?.delete(id);
            this.current.delete(id);
            this.changed();
          },
          synced: () => {
            if (!fresh) return;
            this.current = fresh;
            fresh = undefined;
            if (!this.syncedOnce) {
              this.syncedOnce = true;
              this.logger.log(`quarantine list read: ${this.current.size} participant(s)`);
            }
            quarantineWatchSynced.set(1);
            this.changed();
            onSynced();
            this.firstSync?.();
            this.firstSync = undefined;
          },
        },
        signal,
      )
      .finally(() => quarantineWatchSynced.set(0));
  }

  private changed(): void {
    quarantinedParticipants.set(this.current.size);
    for (const listener of this.listeners) {
      // One listener failing must not break the watch, nor keep the others from hearing.
      try {
        listener();
      } catch (error) {
        this.logger.error({ err: error }, 'a quarantine listener failed');
      }
    }
  }

  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after every change of the list; returns what stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
