import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { decodeRichStatus, isGrpcError, toTimestamp, type GrpcClient } from '@cinode/grpc';
import type {
  InventorySnapshot,
  ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { SecurityServiceClient } from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { Logger } from 'pino';
import { AttackLineError, attackEventOfLine } from './attacks/attack-event-line';
import type { AttackLogTailer } from './attacks/attack-log-tailer';
import { AttackReporter } from './attacks/attack-reporter';
import type { SimulatedAttacks } from './attacks/simulated-attacks';
import type { AgentConfig } from './config';
import {
  RunningTasks,
  type InventorySource,
  type PoolDefinition,
} from './inventory/inventory-source';
import { InventoryStream, MAX_BATCH } from './southbound/inventory-stream';
import { SequenceClock } from './southbound/sequence-clock';
import type { TokenSource } from './southbound/token-source';
import { TaskRunner } from './tasks/task-runner';

/** The southbound contract version this agent speaks. */
export const CONTRACT_VERSION = 1;
/** Statuses a start-up call is retried on: the node is starting, or has not seen the certification yet. */
const RETRIED = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.FAILED_PRECONDITION,
]);
const MAX_BACKOFF_MS = 5_000;
/** Pools registered at once. */
const REGISTER_CONCURRENCY = 4;
/** Time a closing StreamInventory call has beyond its lifetime to answer. */
const STREAM_DEADLINE_MARGIN_MS = 15_000;
/** How often the attack events file is looked at (and simulated attacks made). */
const ATTACK_POLL_MS = 1_000;
/** Longest wait between two tries of attack events the node did not take. */
const ATTACK_RETRY_MAX_MS = 30_000;

/** Where attack events come from, and the security service they go to. */
export interface AttackFeeds {
  security: GrpcClient<SecurityServiceClient>;
  /** The intrusion-detection system's JSON-lines file (--attack-events). */
  file?: AttackLogTailer;
  /** Synthetic attacks on the simulated pools (--simulate-attacks). */
  simulated?: SimulatedAttacks;
}

interface RegisteredPool {
  key: string;
  poolId: string;
  sequences: SequenceClock;
}

/**
 * The reference southbound client: registers the source's pools (a request id per pool key, so a
 * restart finds the same pools), pushes their inventory on a StreamInventory call, sends
 * heartbeats, and polls its allocations after the last change sequence it has seen, running each
 * as a task.
 */
export class ProviderAgent {
  private readonly registered = new Map<string, RegisteredPool>();
  private readonly keyOfPool = new Map<string, string>();
  private readonly running = new RunningTasks();
  private readonly tasks: TaskRunner;
  private stream: InventoryStream | undefined;
  private cursor = 0;
  private stopping = false;
  private readonly loops: Array<Promise<void>> = [];
  private readonly sleepers = new Set<() => void>();
  private snapshotsPushed = 0;
  private readonly attackReporter: AttackReporter | undefined;
  private attacksSimulatedAt = Date.now();

  constructor(
    private readonly config: AgentConfig,
    private readonly source: InventorySource,
    private readonly tokens: TokenSource,
    private readonly resources: GrpcClient<ResourceServiceClient>,
    private readonly logger: Logger,
    private readonly attacks?: AttackFeeds,
  ) {
    if (attacks)
      this.attackReporter = new AttackReporter(
        async (events) => attacks.security.api.submitAttackEvents({ events }, await this.options()),
        logger,
        {
          retryInitialMs: 250,
          retryMaxMs: ATTACK_RETRY_MAX_MS,
          sleep: (ms) => this.sleep(ms),
          stopping: () => this.stopping,
        },
      );
    this.tasks = new TaskRunner(
      async (request) => this.resources.api.reportTaskState(request, await this.options()),
      this.running,
      {
        startDelayMs: config.TASK_START_DELAY_MS,
        durationMs: config.TASK_DURATION_MS,
        retryMs: config.ALLOCATION_POLL_MS,
      },
      logger,
    );
  }

  /** The node's pool ids of the registered pools, by key. */
  get pools(): ReadonlyMap<string, string> {
    return new Map([...this.registered].map(([key, pool]) => [key, pool.poolId]));
  }

  async start(): Promise<void> {
    await this.retrying('exchanging the API key for a token', () => this.tokens.token());
    this.logger.info(
      `authenticated as provider ${this.tokens.participantId}; registering ${this.source.pools().length} pool(s)`,
    );
    await this.registerAll();
    if (this.stopping) return;
    const fresh = [...this.registered.values()].filter((p) => p.sequences.latest === 0).length;
    this.logger.info(
      `${this.registered.size} pool(s) registered (${fresh} without inventory yet); pushing snapshots every ${this.config.SNAPSHOT_INTERVAL_MS} ms, heartbeats every ${this.config.HEARTBEAT_INTERVAL_MS} ms, polling allocations every ${this.config.ALLOCATION_POLL_MS} ms`,
    );
    this.loops.push(
      this.every(this.config.SNAPSHOT_INTERVAL_MS, 'pushing snapshots', () => this.pushSnapshots()),
      this.every(this.config.HEARTBEAT_INTERVAL_MS, 'sending heartbeats', () => this.heartbeat()),
      this.every(this.config.ALLOCATION_POLL_MS, 'polling allocations', () => this.poll()),
    );
    if (this.attacks) {
      const { file, simulated } = this.attacks;
      this.logger.info(
        `reporting attack events${file ? ` from ${file.path}` : ''}${simulated ? `${file ? ' and' : ''} simulated` : ''}`,
      );
      this.attacksSimulatedAt = Date.now();
      this.loops.push(
        this.every(ATTACK_POLL_MS, 'reporting attack events', () => this.reportAttacks()),
      );
    }
  }

  /** Stops the loops and closes the stream; the node keeps everything it acknowledged. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
    this.tasks.stopAll();
    await Promise.all(this.loops);
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await stream.end().catch(() => undefined);
  }

  private async registerAll(): Promise<void> {
    const queue = [...this.source.pools()];
    const worker = async () => {
      for (let pool = queue.shift(); pool && !this.stopping; pool = queue.shift())
        await this.register(pool);
    };
    await Promise.all(Array.from({ length: REGISTER_CONCURRENCY }, worker));
  }

  private async register(definition: PoolDefinition): Promise<void> {
    try {
      const response = await this.retrying(`registering pool ${definition.key}`, async () =>
        this.resources.api.registerPool(
          {
            requestId: `agent:${definition.key}`,
            spec: definition.spec,
            contractVersion: CONTRACT_VERSION,
          },
          await this.options(),
        ),
      );
      const pool = response.pool;
      if (!pool) throw new Error('RegisterPool answered no pool');
      this.registered.set(definition.key, {
        key: definition.key,
        poolId: pool.poolId,
        sequences: new SequenceClock(pool.inventorySequence),
      });
      this.keyOfPool.set(pool.poolId, definition.key);
      this.logger.debug(
        { key: definition.key, poolId: pool.poolId, created: response.created },
        'pool registered',
      );
    } catch (error) {
      if (this.stopping) return;
      // A key registered before with another description: the node keeps pools as registered.
      this.logger.error(
        { key: definition.key, err: error, reason: reasonOf(error) },
        `pool ${definition.key} could not be registered; it is left out`,
      );
    }
  }

  private async pushSnapshots(): Promise<void> {
    let observed;
    try {
      observed = await this.source.observe();
    } catch (error) {
      this.logger.error({ err: error }, 'the inventory source failed; nothing pushed this time');
      return;
    }
    const observedAt = toTimestamp(new Date());
    const snapshots: InventorySnapshot[] = [];
    for (const pool of this.registered.values()) {
      const inventory = observed.get(pool.key);
      if (!inventory) continue;
      snapshots.push({
        poolId: pool.poolId,
        sequence: pool.sequences.next(),
        observedAt,
        inventory: this.running.reported(pool.key, inventory, this.source.seesTasks),
      });
    }
    if (snapshots.length === 0) return;
    const stream = await this.openStream();
    try {
      await stream.write(snapshots);
    } catch (error) {
      this.logger.warn(
        { err: error, reason: reasonOf(error) },
        'the inventory stream failed; a new one takes the next snapshots',
      );
      this.stream = undefined;
      return;
    }
    if (this.snapshotsPushed === 0)
      this.logger.info(
        `first snapshots of ${snapshots.length} pool(s) sent; each is online once its identifier is filed`,
      );
    this.snapshotsPushed += snapshots.length;
  }

  /** The open stream, or a new one when it failed or its lifetime is over. */
  private async openStream(): Promise<InventoryStream> {
    const current = this.stream;
    if (current && !current.failed && Date.now() < current.closesAtMs) return current;
    if (current && !current.failed)
      void current.end().then(
        (totals) => this.logger.debug({ totals }, 'inventory stream closed'),
        (error: unknown) =>
          this.logger.warn({ err: error }, 'inventory stream ended with an error'),
      );
    const opened = new InventoryStream(
      this.resources,
      await this.metadata(),
      this.config.STREAM_LIFETIME_MS,
      STREAM_DEADLINE_MARGIN_MS,
    );
    this.stream = opened;
    return opened;
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.registered.values()].map((p) => p.poolId);
    for (let i = 0; i < ids.length; i += MAX_BATCH)
      await this.resources.api.heartbeat(
        { poolIds: ids.slice(i, i + MAX_BATCH) },
        await this.options(),
      );
  }

  /** Every allocation created or changed after the last one seen, in change order. */
  private async poll(): Promise<void> {
    for (;;) {
      const { allocations } = await this.resources.api.listAllocations(
        {
          providerParticipantId: '',
          poolId: '',
          state: 0,
          afterSequence: this.cursor,
          pageSize: MAX_BATCH,
          pageToken: '',
        },
        await this.options(),
      );
      for (const allocation of allocations) {
        this.tasks.handle(allocation, this.keyOfPool.get(allocation.poolId));
        this.cursor = Math.max(this.cursor, allocation.sequence);
      }
      if (allocations.length < MAX_BATCH) return;
    }
  }

  /**
   * New attack events to the security service: the simulated ones of the last interval, and the
   * lines appended to the file since the last look, read a slice at a time and each slice sent
   * before the next is read, so the agent holds at most one slice of unsent events.
   */
  private async reportAttacks(): Promise<void> {
    const reporter = this.attackReporter;
    if (!reporter || !this.attacks) return;
    const { file, simulated } = this.attacks;
    if (simulated) {
      const now = new Date();
      const poolIds = [...this.registered.values()].map((pool) => pool.poolId);
      reporter.enqueue(simulated.next(now, now.getTime() - this.attacksSimulatedAt, poolIds));
      this.attacksSimulatedAt = now.getTime();
    }
    await reporter.flush();
    if (!file) return;
    for (let more = true; more && !this.stopping && reporter.pending === 0; ) {
      const read = await file.read();
      if (read.restarted)
        this.logger.info(`${file.path} was ${read.restarted}: reading it again from its start`);
      if (read.skippedBytes > 0)
        this.logger.warn(`${file.path}: skipped a line longer than any attack event`);
      for (const line of read.lines) {
        try {
          reporter.enqueue([attackEventOfLine(line)]);
        } catch (error) {
          if (!(error instanceof AttackLineError)) throw error;
          this.logger.warn(
            { line: line.length > 200 ? `${line.slice(0, 200)}...` : line },
            `${file.path}: a line that is no attack event is skipped (${error.message})`,
          );
        }
      }
      await reporter.flush();
      more = read.more === true;
    }
  }

  /** Runs `work` now and then every `intervalMs` after it finished, until stopped. */
  private async every(intervalMs: number, what: string, work: () => Promise<void>): Promise<void> {
    while (!this.stopping) {
      try {
        await work();
      } catch (error) {
        this.logger.warn(
          { err: error, reason: reasonOf(error) },
          `${what} failed; retried next interval`,
        );
      }
      await this.sleep(intervalMs);
    }
  }

  private async retrying<T>(what: string, work: () => Promise<T>): Promise<T> {
    let delay = 250;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (this.stopping || !isGrpcError(error) || !RETRIED.has(error.code)) throw error;
        if (attempt === 1 || attempt % 10 === 0)
          this.logger.info(
            { reason: reasonOf(error) },
            `${what}: ${error.details || error.message}; retrying`,
          );
        await this.sleep(delay);
        delay = Math.min(MAX_BACKOFF_MS, delay * 2);
      }
    }
  }

  /** Waits `ms`, or less when the agent stops. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private async metadata(): Promise<Metadata> {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await this.tokens.token()}`);
    return metadata;
  }

  private async options(): Promise<{ metadata: Metadata }> {
    return { metadata: await this.metadata() };
  }
}

function reasonOf(error: unknown): string | undefined {
  return isGrpcError(error) ? decodeRichStatus(error)?.errorInfo?.reason : undefined;
}
