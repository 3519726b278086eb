import { Controller, UseInterceptors } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Audited, ReadOnly } from '@cinode/audit';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  GetNodeRequest,
  GetNodeResponse,
  ListNodesRequest,
  ListNodesResponse,
  NationalNodeServiceController,
  RegisterNodeRequest,
  RegisterNodeResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { FaultInterceptor } from '../faults/fault.interceptor';
import { toNodeMessage } from './nodes.mapper';
import { NodesService } from './nodes.service';

const SERVICE = 'NationalNodeService';

@Controller()
@UseInterceptors(FaultInterceptor)
export class NodesGrpcController
  implements Pick<NationalNodeServiceController, 'registerNode' | 'getNode' | 'listNodes'>
{
  constructor(private readonly nodes: NodesService) {}

  @GrpcMethod(SERVICE, 'RegisterNode')
  @AllowRoles('service')
  @Audited('node', 'created', 'node.nodeCode')
  async registerNode(
    request: RegisterNodeRequest,
    metadata: Metadata,
  ): Promise<RegisterNodeResponse> {
    const { node, created } = await this.nodes.register(request, callerOf(metadata));
    return { node: toNodeMessage(node), created };
  }

  @GrpcMethod(SERVICE, 'GetNode')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async getNode(request: GetNodeRequest, metadata: Metadata): Promise<GetNodeResponse> {
    return { node: toNodeMessage(await this.nodes.get(request.nodeCode, callerOf(metadata))) };
  }

  @GrpcMethod(SERVICE, 'ListNodes')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async listNodes(request: ListNodesRequest, metadata: Metadata): Promise<ListNodesResponse> {
    const { nodes, nextPageToken } = await this.nodes.list(
      request.pageSize,
      request.pageToken,
      callerOf(metadata),
    );
    return { nodes: nodes.map(toNodeMessage), nextPageToken };
  }
}
