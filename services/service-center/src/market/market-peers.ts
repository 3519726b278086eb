import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { UnavailableError, ValidationError } from '@cinode/common';
import {
  PEER_CONNECTIONS,
  createGrpcClient,
  decodeRichStatus,
  isGrpcError,
  type CallOptions,
  type GrpcClient,
} from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import {
  HoldState,
  TaskState,
  type HoldResources,
  type Pool,
  type ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { LineServiceClient } from '@cinode/proto/gen/cinode/selection/v1/line_service';
import type {
  Demand,
  SelectResponse,
  SelectionServiceClient,
  Weights,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type { ServiceCenterConfig } from '../config';
import { ErrorReason } from '../errors';

/**
 * Where a hold stands for the line of its order: `ended` when nothing can run under it any more
 * (RELEASED or EXPIRED); `stopping` while its cancelled allocation's task may still run (STOPPING);
 * `live` otherwise (ACTIVE, CONFIRMED, or a state this service does not know).
 */
export type HoldStanding = 'ended' | 'stopping' | 'live';

export function holdStandingOf(state: HoldState | undefined): HoldStanding {
  switch (state) {
    case HoldState.HOLD_STATE_RELEASED:
    case HoldState.HOLD_STATE_EXPIRED:
      return 'ended';
    case HoldState.HOLD_STATE_STOPPING:
      return 'stopping';
    default:
      return 'live';
  }
}

/** Resource aggregation's answers that mean "this capacity cannot be had", not "try again". */
const CAPACITY_REFUSALS = new Set([
  'INSUFFICIENT_CAPACITY',
  'POOL_NOT_SELECTABLE',
  'POOL_NOT_FOUND',
  'HOLD_NOT_ACTIVE',
  'HOLD_NOT_FOUND',
  // Compute selection's, for the bandwidth of a dedicated line.
  'INSUFFICIENT_BANDWIDTH',
  'LINE_NOT_USABLE',
  'LINE_NOT_FOUND',
  'LINE_HOLD_NOT_ACTIVE',
  'LINE_HOLD_NOT_FOUND',
]);

/**
 * Resource aggregation (or compute selection, for a line's bandwidth) refused a hold or its
 * confirmation for good: `capacity` when the capacity cannot be had (taken, the pool or line gone,
 * the hold expired), else a refusal a retry cannot change
 * either (a request it finds malformed, a request id it knows for another hold). `reason` is its
 * ErrorInfo reason, or the status code's name.
 */
export class CapacityRefusal extends Error {
  override readonly name = 'CapacityRefusal';
  constructor(
    readonly reason: string,
    message: string,
    readonly capacity: boolean,
  ) {
    super(message);
  }
}

/** Compute selection and resource aggregation as orders need them; an interface for unit tests. */
export interface MarketPeers {
  select(demand: Demand, weights: Weights | undefined, topK: number): Promise<SelectResponse>;
  getPool(poolId: string): Promise<Pool>;
  createHold(request: {
    requestId: string;
    poolId: string;
    orderReference: string;
    resources: HoldResources;
    ttlSeconds: number;
  }): Promise<{ holdId: string }>;
  confirmHold(holdId: string): Promise<void>;
  /**
   * Releases a hold; one already released or expired counts as released. Resolves with whether
   * its allocation's task had finished before (COMPLETED or FAILED) rather than being cancelled:
   * false when the peer does not say (a replica older than `allocation_state`); and whether the
   * hold has ended (see `HoldStanding`): not so while it is STOPPING, its allocation cancelled and
   * its capacity held until the provider reports the task stopped (or the grace passes).
   */
  releaseHold(holdId: string, reason: string): Promise<{ taskEnded: boolean; ended: boolean }>;
  /** Where the hold stands (see `HoldStanding`); `ended` for a hold the peer does not know. */
  holdStanding(holdId: string): Promise<HoldStanding>;
  /** Reserves bandwidth of a dedicated line at compute selection for an order. */
  holdLine(request: {
    requestId: string;
    lineId: string;
    orderReference: string;
    bandwidthMbps: number;
    ttlSeconds: number;
    durationHours: number;
  }): Promise<{ holdId: string }>;
  confirmLineHold(holdId: string): Promise<void>;
  /** Gives a line reservation back; releasing a released or expired one changes nothing. */
  releaseLineHold(holdId: string, reason: string): Promise<void>;
}

export const MARKET_PEERS = Symbol('MARKET_PEERS');

/** Calls both peers as the service center's own service identity. */
@Injectable()
export class GrpcMarketPeers implements MarketPeers, OnApplicationShutdown {
  private readonly selection: GrpcClient<SelectionServiceClient>;
  private readonly resources: GrpcClient<ResourceServiceClient>;
  private readonly lines: GrpcClient<LineServiceClient>;

  /** The peers' deadline: a call shed as overloaded is made again only within it. */
  private readonly timeoutMs: number;

  constructor(
    @InjectConfig() config: ServiceCenterConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    this.timeoutMs = config.MARKET_PEER_TIMEOUT_MS;
    this.selection = createGrpcClient<SelectionServiceClient>(
      'cinode.selection.v1.SelectionService',
      {
        address: config.COMPUTE_SELECTION_ADDRESS,
        credentials,
        defaultTimeoutMs: config.MARKET_PEER_TIMEOUT_MS,
        token: () => tokens.token(),
        connections: PEER_CONNECTIONS,
      },
    );
    this.resources = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
      address: config.RESOURCE_AGGREGATION_ADDRESS,
      credentials,
      defaultTimeoutMs: config.MARKET_PEER_TIMEOUT_MS,
      token: () => tokens.token(),
      connections: PEER_CONNECTIONS,
    });
    this.lines = createGrpcClient<LineServiceClient>('cinode.selection.v1.LineService', {
      address: config.COMPUTE_SELECTION_ADDRESS,
      credentials,
      defaultTimeoutMs: config.MARKET_PEER_TIMEOUT_MS,
      token: () => tokens.token(),
      connections: PEER_CONNECTIONS,
    });
  }

  async select(
    demand: Demand,
    weights: Weights | undefined,
    topK: number,
  ): Promise<SelectResponse> {
    try {
      return await this.selection.api.select({ demand, weights, topK });
    } catch (error) {
      if (!isGrpcError(error)) throw error;
      if (error.code === GrpcStatus.INVALID_ARGUMENT)
        throw new ValidationError(decodeRichStatus(error)?.fieldViolations ?? []);
      if (isTransient(error))
        throw unavailable(ErrorReason.SELECTION_UNAVAILABLE, 'compute selection', error);
      // Never the peer's own status: the caller would take it for its own request's or credentials'.
      throw new Error(
        `compute selection refused Select: ${GrpcStatus[error.code]} ${error.details}`,
      );
    }
  }

  async getPool(poolId: string): Promise<Pool> {
    const { pool } = await this.call((options) => this.resources.api.getPool({ poolId }, options));
    if (!pool) throw new Error('GetPool answered without a pool');
    return pool;
  }

  async createHold(request: {
    requestId: string;
    poolId: string;
    orderReference: string;
    resources: HoldResources;
    ttlSeconds: number;
  }): Promise<{ holdId: string }> {
    const { hold } = await this.call((options) => this.resources.api.createHold(request, options));
    if (!hold) throw new Error('CreateHold answered without a hold');
    return { holdId: hold.holdId };
  }

  async confirmHold(holdId: string): Promise<void> {
    await this.call((options) => this.resources.api.confirmHold({ holdId }, options));
  }

  async releaseHold(
    holdId: string,
    reason: string,
  ): Promise<{ taskEnded: boolean; ended: boolean }> {
    try {
      const { allocationState, hold } = await this.call((options) =>
        this.resources.api.releaseHold({ holdId, reason }, options),
      );
      return {
        taskEnded:
          allocationState === TaskState.TASK_STATE_COMPLETED ||
          allocationState === TaskState.TASK_STATE_FAILED,
        ended: holdStandingOf(hold?.state) === 'ended',
      };
    } catch (error) {
      // Only a replica older than STOPPING refuses a release so, for a confirmed hold whose task
      // it leaves running: nothing ended. (Today's answers a finished hold with its state.)
      if (error instanceof CapacityRefusal && error.reason === 'HOLD_NOT_ACTIVE')
        return { taskEnded: false, ended: false };
      // Nothing is held under an id resource aggregation does not know (its database restored).
      if (error instanceof CapacityRefusal && error.reason === 'HOLD_NOT_FOUND')
        return { taskEnded: false, ended: true };
      throw error;
    }
  }

  async holdStanding(holdId: string): Promise<HoldStanding> {
    try {
      const { hold } = await this.call((options) =>
        this.resources.api.getHold({ holdId }, options),
      );
      return holdStandingOf(hold?.state);
    } catch (error) {
      // Nothing is held under an id resource aggregation does not know (its database restored).
      if (error instanceof CapacityRefusal && error.reason === 'HOLD_NOT_FOUND') return 'ended';
      throw error;
    }
  }

  async holdLine(request: {
    requestId: string;
    lineId: string;
    orderReference: string;
    bandwidthMbps: number;
    ttlSeconds: number;
    durationHours: number;
  }): Promise<{ holdId: string }> {
    const { hold } = await this.call(
      (options) => this.lines.api.holdLineBandwidth(request, options),
      LINES_PEER,
    );
    if (!hold) throw new Error('HoldLineBandwidth answered without a hold');
    return { holdId: hold.holdId };
  }

  async confirmLineHold(holdId: string): Promise<void> {
    await this.call((options) => this.lines.api.confirmLineHold({ holdId }, options), LINES_PEER);
  }

  async releaseLineHold(holdId: string, reason: string): Promise<void> {
    try {
      await this.call(
        (options) => this.lines.api.releaseLineHold({ holdId, reason }, options),
        LINES_PEER,
      );
    } catch (error) {
      // Nothing is held under an id compute selection does not know (e.g. its database restored).
      if (error instanceof CapacityRefusal && error.reason === 'LINE_HOLD_NOT_FOUND') return;
      throw error;
    }
  }

  /**
   * Makes a call to a peer, mapping its refusals (see CapacityRefusal, and UnavailableError for
   * those a retry cures). A call the peer shed as overloaded (RESOURCE_EXHAUSTED OVERLOADED, given
   * before it read the request: nothing ran) is made again after a short pause, OVERLOAD_TRIES
   * times in all, while the peer's deadline leaves room: a peer's moment of overload costs the
   * order a pause, not a PLACING left for a retry. Every call here is idempotent anyway (a request
   * id, or a hold id).
   */
  private async call<T>(
    attempt: (options: CallOptions) => Promise<T>,
    peer: { name: string; reason: ErrorReason } = AGGREGATION_PEER,
  ): Promise<T> {
    const giveUpAt = Date.now() + this.timeoutMs;
    for (let tries = 1; ; tries += 1) {
      try {
        // Every try within the one deadline, not a fresh one each.
        return await attempt({ timeoutMs: Math.max(1, giveUpAt - Date.now()) });
      } catch (error) {
        if (!isGrpcError(error)) throw error;
        const reason = decodeRichStatus(error)?.errorInfo?.reason;
        const pause = OVERLOAD_PAUSE_MS * tries * (0.5 + Math.random());
        const shed = error.code === GrpcStatus.RESOURCE_EXHAUSTED && reason === 'OVERLOADED';
        if (shed && tries < OVERLOAD_TRIES && Date.now() + pause < giveUpAt) {
          await new Promise((resolve) => setTimeout(resolve, pause));
          continue;
        }
        if (reason && CAPACITY_REFUSALS.has(reason))
          throw new CapacityRefusal(reason, error.details, true);
        if (isTransient(error)) throw unavailable(peer.reason, peer.name, error);
        throw new CapacityRefusal(
          reason ?? GrpcStatus[error.code] ?? 'UNKNOWN',
          error.details,
          false,
        );
      }
    }
  }

  onApplicationShutdown(): void {
    this.selection.close();
    this.resources.close();
    this.lines.close();
  }
}

/** How many times a call a peer sheds as overloaded is made in all, and the base of the pause. */
const OVERLOAD_TRIES = 3;
const OVERLOAD_PAUSE_MS = 200;

const AGGREGATION_PEER = {
  name: 'resource aggregation',
  reason: ErrorReason.AGGREGATION_UNAVAILABLE,
};
const LINES_PEER = { name: 'compute selection', reason: ErrorReason.SELECTION_UNAVAILABLE };

/**
 * Failures a retry can cure: the peer down, slow, overloaded or not ready yet, a lost call, or this
 * service's token refused (a key rotation or JWKS refresh in flight, or a configuration an
 * operator fixes).
 */
const TRANSIENT = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNKNOWN,
  // A peer older than the RPC, during a rolling upgrade.
  GrpcStatus.UNIMPLEMENTED,
]);

function isTransient(error: { code: number }): boolean {
  return TRANSIENT.has(error.code);
}

function unavailable(reason: ErrorReason, peer: string, error: { code: number }): UnavailableError {
  const code = GrpcStatus[error.code] ?? String(error.code);
  return new UnavailableError(reason, `${peer} could not answer (${code}); retry`, {
    retryAfterSeconds: 1,
  });
}
