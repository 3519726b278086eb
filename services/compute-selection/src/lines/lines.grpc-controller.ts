import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  GetLineRequest,
  GetLineResponse,
  ListLinesRequest,
  ListLinesResponse,
  RegisterLineRequest,
  RegisterLineResponse,
  UpdateLineRequest,
  UpdateLineResponse,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import { toLineMessage } from './line-view';
import { LinesService } from './lines.service';

const SERVICE = 'LineService';

@Controller()
export class LinesGrpcController {
  constructor(private readonly lines: LinesService) {}

  @GrpcMethod(SERVICE, 'RegisterLine')
  @AllowRoles('line_provider', 'operator')
  @Audited('line', 'created', 'line.lineId')
  async registerLine(
    request: RegisterLineRequest,
    metadata: Metadata,
  ): Promise<RegisterLineResponse> {
    const { line, created } = await this.lines.register(callerOf(metadata), request);
    return { line: toLineMessage(line), created };
  }

  @GrpcMethod(SERVICE, 'UpdateLine')
  @AllowRoles('line_provider')
  @Audited('line', 'lineId')
  async updateLine(request: UpdateLineRequest, metadata: Metadata): Promise<UpdateLineResponse> {
    return { line: toLineMessage(await this.lines.update(callerOf(metadata), request)) };
  }

  @GrpcMethod(SERVICE, 'GetLine')
  @AllowRoles('line_provider', 'operator', 'regulator', 'service')
  @ReadOnly()
  async getLine(request: GetLineRequest, metadata: Metadata): Promise<GetLineResponse> {
    return { line: toLineMessage(await this.lines.get(callerOf(metadata), request.lineId)) };
  }

  @GrpcMethod(SERVICE, 'ListLines')
  @AllowRoles('line_provider', 'operator', 'regulator', 'service')
  @ReadOnly()
  async listLines(request: ListLinesRequest, metadata: Metadata): Promise<ListLinesResponse> {
    const { lines, nextPageToken } = await this.lines.list(callerOf(metadata), request);
    return { lines: lines.map(toLineMessage), nextPageToken };
  }
}
