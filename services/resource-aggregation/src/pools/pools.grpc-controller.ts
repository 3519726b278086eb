import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  GetPoolRequest,
  GetPoolResponse,
  ListPoolsRequest,
  ListPoolsResponse,
  RegisterPoolRequest,
  RegisterPoolResponse,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { toPoolMessage } from './pool-view';
import { PoolsService } from './pools.service';

const SERVICE = 'ResourceService';

@Controller()
export class PoolsGrpcController {
  constructor(private readonly pools: PoolsService) {}

  @GrpcMethod(SERVICE, 'RegisterPool')
  @AllowRoles('provider')
  @Audited('pool', 'created', 'pool.poolId')
  async registerPool(
    request: RegisterPoolRequest,
    metadata: Metadata,
  ): Promise<RegisterPoolResponse> {
    const { pool, created } = await this.pools.register(callerOf(metadata), request);
    return { pool: toPoolMessage(pool), created };
  }

  @GrpcMethod(SERVICE, 'GetPool')
  @AllowRoles('provider', 'operator', 'regulator', 'service')
  @ReadOnly()
  async getPool(request: GetPoolRequest, metadata: Metadata): Promise<GetPoolResponse> {
    return { pool: toPoolMessage(await this.pools.get(callerOf(metadata), request.poolId)) };
  }

  @GrpcMethod(SERVICE, 'ListPools')
  @AllowRoles('provider', 'operator', 'regulator', 'service')
  @ReadOnly()
  async listPools(request: ListPoolsRequest, metadata: Metadata): Promise<ListPoolsResponse> {
    const { pools, nextPageToken } = await this.pools.list(callerOf(metadata), request);
    return { pools: pools.map(toPoolMessage), nextPageToken };
  }
}
