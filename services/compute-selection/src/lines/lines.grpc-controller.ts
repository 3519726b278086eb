import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  ConfirmLineHoldRequest,
  ConfirmLineHoldResponse,
  HoldLineBandwidthRequest,
  HoldLineBandwidthResponse,
  ReleaseLineHoldRequest,
  ReleaseLineHoldResponse,
  GetLineRequest,
  GetLineResponse,
  ListLineHoldsRequest,
  ListLineHoldsResponse,
  ListLinesRequest,
  ListLinesResponse,
  RegisterLineRequest,
  RegisterLineResponse,
  UpdateLineRequest,
  UpdateLineResponse,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import { LineHoldsService } from './line-holds.service';
import { toLineHoldMessage, toLineMessage } from './line-view';
import { LinesService } from './lines.service';

const SERVICE = 'LineService';

@Controller()
export class LinesGrpcController {
  constructor(
    private readonly lines: LinesService,
    private readonly holds: LineHoldsService,
  ) {}

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

  @GrpcMethod(SERVICE, 'HoldLineBandwidth')
  @AllowRoles('service')
  @Audited('line_hold', 'created', 'hold.holdId')
  async holdLineBandwidth(
    request: HoldLineBandwidthRequest,
    metadata: Metadata,
  ): Promise<HoldLineBandwidthResponse> {
    const { hold, created } = await this.holds.hold(callerOf(metadata), request);
    return { hold: toLineHoldMessage(hold), created };
  }

  @GrpcMethod(SERVICE, 'ConfirmLineHold')
  @AllowRoles('service')
  @Audited('line_hold', 'holdId')
  async confirmLineHold(
    request: ConfirmLineHoldRequest,
    metadata: Metadata,
  ): Promise<ConfirmLineHoldResponse> {
    return {
      hold: toLineHoldMessage(await this.holds.confirm(callerOf(metadata), request.holdId)),
    };
  }

  @GrpcMethod(SERVICE, 'ReleaseLineHold')
  @AllowRoles('service', 'operator')
  @Audited('line_hold', 'holdId')
  async releaseLineHold(
    request: ReleaseLineHoldRequest,
    metadata: Metadata,
  ): Promise<ReleaseLineHoldResponse> {
    const hold = await this.holds.release(callerOf(metadata), request.holdId, request.reason);
    return { hold: toLineHoldMessage(hold) };
  }

  @GrpcMethod(SERVICE, 'ListLineHolds')
  @AllowRoles('operator', 'regulator', 'service')
  @ReadOnly()
  async listLineHolds(request: ListLineHoldsRequest): Promise<ListLineHoldsResponse> {
    const { holds, nextPageToken } = await this.holds.list(request);
    return { holds: holds.map(toLineHoldMessage), nextPageToken };
  }
}
