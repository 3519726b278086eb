import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { QUARANTINE_BUCKET } from '@cinode/contracts';
import { Periodic } from '@cinode/common';
import { NATS_CONNECTION } from '@cinode/events';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type { KV, NatsConnection } from 'nats';
import type { SecurityConfig } from '../config';
import { RiskRepository } from './risk.repository';

/**
 * Keeps the quarantine bucket equal to the database: a key per participant with a quarantine not
 * lifted (value: its id and state), none for anyone else. The database is the truth; the bucket is
 * brought in line after every commit that changed a participant's quarantine and every
 * QUARANTINE_SYNC_INTERVAL_MS, so a failed write (NATS away) is repaired by the next round. The
 * shared gRPC layer of every service watches the bucket.
 */
@Injectable()
export class QuarantineBucket implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(QuarantineBucket.name);
  private readonly periodic: Periodic;
  private kv: KV | undefined;
  private dirty = false;
  private draining = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly risks: RiskRepository,
    private readonly uow: UnitOfWork,
    @InjectConfig() config: SecurityConfig,
  ) {
    this.periodic = new Periodic(
      'quarantine bucket sync',
      config.QUARANTINE_SYNC_INTERVAL_MS,
      () => this.sync(),
      this.logger,
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.periodic.runOnce();
    this.periodic.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.periodic.stop();
  }

  /**
   * Brings the bucket in line soon (after a commit): a round already under way may have read the
   * database before that commit, so another follows it. Errors are logged; the next round repairs.
   */
  syncSoon(): void {
    this.dirty = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.periodic.runOnce();
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * One round: puts what is missing or changed, deletes what is no longer quarantined. Rounds of
   * all replicas take one database lock for their whole length, so one replica's stale view never
   * deletes a key another has just put.
   */
  async sync(): Promise<{ put: number; deleted: number }> {
    return this.uow.run((tx) => this.syncLocked(tx));
  }

  private async syncLocked(tx: Tx): Promise<{ put: number; deleted: number }> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(40414)`);
    this.kv ??= await this.nc.jetstream().views.kv(QUARANTINE_BUCKET, { history: 1 });
    const kv = this.kv;
    const wanted = await this.risks.quarantinedParticipants(tx);
    const present = new Map<string, string>();
    for await (const key of await kv.keys()) {
      const entry = await kv.get(key);
      if (entry && entry.operation === 'PUT') present.set(key, entry.string());
    }
    let put = 0;
    let deleted = 0;
    for (const [participantId, quarantine] of wanted) {
      if (!/^[-/_=.a-zA-Z0-9]+$/.test(participantId)) {
        this.logger.warn({ participantId }, 'participant id cannot be a bucket key; not enforced');
        continue;
      }
      const value = JSON.stringify({
        quarantineId: quarantine.quarantineId,
        state: quarantine.state,
      });
      if (present.get(participantId) === value) continue;
      await kv.put(participantId, value);
      put += 1;
    }
    for (const key of present.keys()) {
      if (wanted.has(key)) continue;
      await kv.delete(key);
      deleted += 1;
    }
    if (put + deleted > 0) this.logger.log({ put, deleted }, 'quarantine bucket updated');
    return { put, deleted };
  }
}
