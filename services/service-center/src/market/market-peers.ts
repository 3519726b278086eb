import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { UnavailableError, ValidationError } from '@cinode/common';
import { createGrpcClient, decodeRichStatus, isGrpcError, type GrpcClient } from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import type {
  HoldResources,
  Pool,
  ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type {
  Demand,
  SelectResponse,
  SelectionServiceClient,
  Weights,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type { ServiceCenterConfig } from '../config';
import { ErrorReason } from '../errors';

/** Resource aggregation's answers that mean "this capacity cannot be had", not "try again". */
const CAPACITY_REFUSALS = new Set([
  'INSUFFICIENT_CAPACITY',
  'POOL_NOT_SELECTABLE',
  'POOL_NOT_FOUND',
  'HOLD_NOT_ACTIVE',
  'HOLD_NOT_FOUND',
]);

/** Resource aggregation refused a hold or its confirmation for good; `reason` is its ErrorInfo reason. */
export class CapacityRefusal extends Error {
  override readonly name = 'CapacityRefusal';
  constructor(
    readonly reason: string,
    message: string,
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
  /** Releases a hold; one already released or expired counts as released. */
  releaseHold(holdId: string, reason: string): Promise<void>;
}

export const MARKET_PEERS = Symbol('MARKET_PEERS');

/** Calls both peers as the service center's own service identity. */
@Injectable()
export class GrpcMarketPeers implements MarketPeers, OnApplicationShutdown {
  private readonly selection: GrpcClient<SelectionServiceClient>;
  private readonly resources: GrpcClient<ResourceServiceClient>;

  constructor(
    @InjectConfig() config: ServiceCenterConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    this.selection = createGrpcClient<SelectionServiceClient>(
      'cinode.selection.v1.SelectionService',
      {
        address: config.COMPUTE_SELECTION_ADDRESS,
        credentials,
        defaultTimeoutMs: config.MARKET_PEER_TIMEOUT_MS,
        token: () => tokens.token(),
      },
    );
    this.resources = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
      address: config.RESOURCE_AGGREGATION_ADDRESS,
      credentials,
      defaultTimeoutMs: config.MARKET_PEER_TIMEOUT_MS,
      token: () => tokens.token(),
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
      if (isGrpcError(error) && error.code === GrpcStatus.INVALID_ARGUMENT)
        throw new ValidationError(decodeRichStatus(error)?.fieldViolations ?? []);
      if (isTransient(error))
        throw unavailable(ErrorReason.SELECTION_UNAVAILABLE, 'compute selection', error);
      throw error;
    }
  }

  async getPool(poolId: string): Promise<Pool> {
    const { pool } = await this.call(() => this.resources.api.getPool({ poolId }));
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
    const { hold } = await this.call(() => this.resources.api.createHold(request));
    if (!hold) throw new Error('CreateHold answered without a hold');
    return { holdId: hold.holdId };
  }

  async confirmHold(holdId: string): Promise<void> {
    await this.call(() => this.resources.api.confirmHold({ holdId }));
  }

  async releaseHold(holdId: string, reason: string): Promise<void> {
    try {
      await this.call(() => this.resources.api.releaseHold({ holdId, reason }));
    } catch (error) {
      // Released, expired or consumed by a finished task: nothing is held any more.
      if (error instanceof CapacityRefusal && error.reason === 'HOLD_NOT_ACTIVE') return;
      throw error;
    }
  }

  private async call<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      const reason = isGrpcError(error) ? decodeRichStatus(error)?.errorInfo?.reason : undefined;
      if (reason && CAPACITY_REFUSALS.has(reason))
        throw new CapacityRefusal(reason, (error as Error).message);
      if (isTransient(error))
        throw unavailable(ErrorReason.AGGREGATION_UNAVAILABLE, 'resource aggregation', error);
      // Anything else (a refused token, a request this service built wrong) is this node's fault.
      throw error;
    }
  }

  onApplicationShutdown(): void {
    this.selection.close();
    this.resources.close();
  }
}

const TRANSIENT = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
]);

/** Failures a retry can cure: the peer down, slow, overloaded (or not ready yet), or a lost call. */
function isTransient(error: unknown): boolean {
  return !isGrpcError(error) || TRANSIENT.has(error.code);
}

function unavailable(reason: ErrorReason, peer: string, error: unknown): UnavailableError {
  const code = isGrpcError(error) ? (GrpcStatus[error.code] ?? String(error.code)) : 'ERROR';
  return new UnavailableError(reason, `${peer} could not answer (${code}); retry`, {
    retryAfterSeconds: 1,
  });
}
