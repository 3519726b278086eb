import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import { DomainError } from '@cinode/common';
import { toTimestamp } from '@cinode/grpc';
import type {
  GetComputeMapRequest,
  GetComputeMapResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  ListInventoryHistoryRequest,
  ListInventoryHistoryResponse,
  ReportInventoryRequest,
  ReportInventoryResponse,
  StreamInventoryRequest,
  StreamInventoryResponse,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { poolClassOf } from '../pools/pool-input';
import { inventoryMessageOf } from '../pools/pool-view';
import { MAX_SNAPSHOTS_PER_TRANSACTION } from './inventory-input';
import { consecutiveGroups } from './inventory-stream';
import { InventoryService } from './inventory.service';

const SERVICE = 'ResourceService';

@Controller()
export class InventoryGrpcController {
  constructor(private readonly inventory: InventoryService) {}

  @GrpcMethod(SERVICE, 'ReportInventory')
  @AllowRoles('provider')
  @Audited('pool', 'snapshots.0.poolId')
  reportInventory(
    request: ReportInventoryRequest,
    metadata: Metadata,
  ): Promise<ReportInventoryResponse> {
    return this.inventory.report(callerOf(metadata), request.snapshots);
  }

  /**
   * Batches are applied in the order they arrive; those that arrived while the previous ones were
   * being applied go together in one transaction (up to MAX_SNAPSHOTS_PER_TRANSACTION snapshots),
   * with the outcome of applying them one after another. Beyond that the stream is not read, and
   * a client sending faster than batches commit is held back by flow control (the kit hands
   * client-streaming handlers an AsyncIterable). The totals answer the stream's end.
   */
  @GrpcStreamMethod(SERVICE, 'StreamInventory')
  @AllowRoles('provider')
  @Audited('pool', 'snapshots.0.poolId')
  async streamInventory(
    batches: AsyncIterable<StreamInventoryRequest>,
    metadata: Metadata,
    call: { cancelled?: boolean },
  ): Promise<StreamInventoryResponse> {
    const caller = callerOf(metadata);
    const totals = { batches: 0, applied: 0, ignored: 0 };
    // Every message weighs at least one: a flood of empty batches (refused only once applied)
    // fills the read-ahead too, so it stays bounded and flow control holds the client back.
    const groups = consecutiveGroups(
      batches,
      (batch) => 1 + batch.snapshots.length,
      MAX_SNAPSHOTS_PER_TRANSACTION,
    );
    for await (const group of groups) {
      const result = await this.inventory.reportBatches(
        caller,
        group.map((batch) => batch.snapshots),
        totals.batches,
      );
      totals.batches += group.length;
      totals.applied += result.applied;
      totals.ignored += result.ignored;
    }
    // A cancelled stream ends its iteration like a finished one: the batches read stay applied,
    // the caller, gone, is answered nothing.
    if (call.cancelled)
      throw new DomainError('CANCELLED', 'CANCELLED', 'the caller cancelled the stream');
    return totals;
  }

  @GrpcMethod(SERVICE, 'Heartbeat')
  @AllowRoles('provider')
  @Audited('pool', 'poolIds.0')
  async heartbeat(request: HeartbeatRequest, metadata: Metadata): Promise<HeartbeatResponse> {
    return { refreshed: await this.inventory.heartbeat(callerOf(metadata), request.poolIds) };
  }

  @GrpcMethod(SERVICE, 'ListInventoryHistory')
  @AllowRoles('provider', 'operator', 'regulator', 'service')
  @ReadOnly()
  async listInventoryHistory(
    request: ListInventoryHistoryRequest,
    metadata: Metadata,
  ): Promise<ListInventoryHistoryResponse> {
    const { points, nextPageToken } = await this.inventory.history(callerOf(metadata), request);
    return {
      points: points.map((p) => ({
        minute: toTimestamp(p.minute),
        inventory: inventoryMessageOf(p.inventory),
        sequence: p.sequence,
      })),
      nextPageToken,
    };
  }

  @GrpcMethod(SERVICE, 'GetComputeMap')
  @AllowRoles('operator', 'regulator', 'service')
  @ReadOnly()
  async getComputeMap(request: GetComputeMapRequest): Promise<GetComputeMapResponse> {
    const computedAt = new Date();
    const { cells, totals } = await this.inventory.computeMap(request.regionCode);
    return {
      pools: totals.pools,
      total: inventoryMessageOf(totals.total),
      free: inventoryMessageOf(totals.free),
      cells: cells.map((c) => ({
        regionCode: c.regionCode,
        poolClass: poolClassOf(c.poolClass),
        acceleratorModel: c.acceleratorModel,
        pools: c.pools,
        total: inventoryMessageOf(c.total),
        free: inventoryMessageOf(c.free),
      })),
      computedAt: toTimestamp(computedAt),
    };
  }
}
