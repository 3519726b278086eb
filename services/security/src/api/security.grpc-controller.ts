import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf, hasRole } from '@cinode/auth';
import type {
  ConfirmQuarantineRequest,
  ConfirmQuarantineResponse,
  GetRiskRequest,
  GetRiskResponse,
  ImportFindingsRequest,
  ImportFindingsResponse,
  LiftQuarantineRequest,
  LiftQuarantineResponse,
  ListAttackEventsRequest,
  ListAttackEventsResponse,
  ListEndpointsRequest,
  ListEndpointsResponse,
  ListFindingsRequest,
  ListFindingsResponse,
  ListQuarantinesRequest,
  ListQuarantinesResponse,
  ListRisksRequest,
  ListRisksResponse,
  RegisterEndpointRequest,
  RegisterEndpointResponse,
  RemoveEndpointRequest,
  RemoveEndpointResponse,
  RunPostureCheckRequest,
  RunPostureCheckResponse,
  SecurityServiceController,
  SubmitAttackEventsRequest,
  SubmitAttackEventsResponse,
  TransitionAttackEventRequest,
  TransitionAttackEventResponse,
  UpdateFindingStatusRequest,
  UpdateFindingStatusResponse,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import { AttackEventsService } from '../attacks/attack-events.service';
import { EndpointsService } from '../endpoints/endpoints.service';
import { FindingsService, POSTURE_TOOL } from '../findings/findings.service';
import { RiskApiService } from '../risk/risk-api.service';
import {
  toAttackEventMessage,
  toEndpointMessage,
  toFindingMessage,
  toQuarantineMessage,
  toRiskMessage,
} from './security.mapper';

const SERVICE = 'SecurityService';

/** The roles that own endpoints and assets and read their own findings and risk. */
const PARTICIPANTS = ['provider', 'line_provider', 'reseller', 'application_provider'] as const;

/** SecurityService: forwards to the features, nothing else. */
@Controller()
export class SecurityGrpcController implements SecurityServiceController {
  constructor(
    private readonly attacks: AttackEventsService,
    private readonly findings: FindingsService,
    private readonly endpoints: EndpointsService,
    private readonly risks: RiskApiService,
  ) {}

  @GrpcMethod(SERVICE, 'SubmitAttackEvents')
  @AllowRoles('provider', 'operator', 'service')
  @Audited('attack_event', 'events.0.eventId')
  async submitAttackEvents(
    request: SubmitAttackEventsRequest,
    metadata: Metadata,
  ): Promise<SubmitAttackEventsResponse> {
    return { results: await this.attacks.submit(callerOf(metadata), request) };
  }

  @GrpcMethod(SERVICE, 'ListAttackEvents')
  @AllowRoles('provider', 'operator', 'regulator', 'service')
  @ReadOnly()
  async listAttackEvents(
    request: ListAttackEventsRequest,
    metadata: Metadata,
  ): Promise<ListAttackEventsResponse> {
    const { events, nextPageToken } = await this.attacks.list(callerOf(metadata), request);
    return { events: events.map(toAttackEventMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'TransitionAttackEvent')
  @AllowRoles('operator')
  @Audited('attack_event', 'securityEventId')
  async transitionAttackEvent(
    request: TransitionAttackEventRequest,
    metadata: Metadata,
  ): Promise<TransitionAttackEventResponse> {
    return {
      event: toAttackEventMessage(await this.attacks.transition(callerOf(metadata), request)),
    };
  }

  @GrpcMethod(SERVICE, 'ImportFindings')
  @AllowRoles('operator')
  @Audited('asset', 'asset.id')
  async importFindings(request: ImportFindingsRequest): Promise<ImportFindingsResponse> {
    return this.findings.import(request);
  }

  @GrpcMethod(SERVICE, 'ListFindings')
  @AllowRoles(...PARTICIPANTS, 'operator', 'regulator', 'service')
  @ReadOnly()
  async listFindings(
    request: ListFindingsRequest,
    metadata: Metadata,
  ): Promise<ListFindingsResponse> {
    const caller = callerOf(metadata);
    const { findings, nextPageToken } = await this.findings.list(caller, request);
    const now = new Date();
    // A participant reads what the node's checks found, not what the probed server said.
    const redact = !hasRole(caller, 'operator', 'regulator', 'service');
    return {
      findings: findings.map((f) =>
        toFindingMessage(redact && f.tool === POSTURE_TOOL ? { ...f, message: f.title } : f, now),
      ),
      nextPageToken,
    };
  }

  @GrpcMethod(SERVICE, 'UpdateFindingStatus')
  @AllowRoles('operator')
  @Audited('finding', 'findingId')
  async updateFindingStatus(
    request: UpdateFindingStatusRequest,
    metadata: Metadata,
  ): Promise<UpdateFindingStatusResponse> {
    return {
      finding: toFindingMessage(await this.findings.updateStatus(callerOf(metadata), request)),
    };
  }

  @GrpcMethod(SERVICE, 'RegisterEndpoint')
  @AllowRoles(...PARTICIPANTS, 'operator')
  @Audited('endpoint', 'participantId', 'endpoint.endpointId')
  async registerEndpoint(
    request: RegisterEndpointRequest,
    metadata: Metadata,
  ): Promise<RegisterEndpointResponse> {
    const caller = callerOf(metadata);
    const { endpoint, created } = await this.endpoints.register(caller, request);
    return { endpoint: toEndpointMessage(endpoint, !hasRole(caller, 'operator')), created };
  }

  @GrpcMethod(SERVICE, 'ListEndpoints')
  @AllowRoles(...PARTICIPANTS, 'operator', 'regulator', 'service')
  @ReadOnly()
  async listEndpoints(
    request: ListEndpointsRequest,
    metadata: Metadata,
  ): Promise<ListEndpointsResponse> {
    const caller = callerOf(metadata);
    const { endpoints, nextPageToken } = await this.endpoints.list(caller, request);
    const redact = !hasRole(caller, 'operator', 'regulator', 'service');
    return { endpoints: endpoints.map((e) => toEndpointMessage(e, redact)), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'RemoveEndpoint')
  @AllowRoles(...PARTICIPANTS, 'operator')
  @Audited('endpoint', 'endpointId')
  async removeEndpoint(
    request: RemoveEndpointRequest,
    metadata: Metadata,
  ): Promise<RemoveEndpointResponse> {
    await this.endpoints.remove(callerOf(metadata), request.endpointId);
    return {};
  }

  @GrpcMethod(SERVICE, 'RunPostureCheck')
  @AllowRoles('operator')
  @Audited('endpoint', 'endpointId')
  async runPostureCheck(request: RunPostureCheckRequest): Promise<RunPostureCheckResponse> {
    const { endpoint, opened, mitigated } = await this.endpoints.checkNow(request.endpointId);
    return {
      endpoint: toEndpointMessage(endpoint),
      findingsOpened: opened,
      findingsMitigated: mitigated,
    };
  }

  @GrpcMethod(SERVICE, 'GetRisk')
  @AllowRoles(...PARTICIPANTS, 'operator', 'regulator', 'service')
  @ReadOnly()
  async getRisk(request: GetRiskRequest, metadata: Metadata): Promise<GetRiskResponse> {
    return { risk: toRiskMessage(await this.risks.get(callerOf(metadata), request)) };
  }

  @GrpcMethod(SERVICE, 'ListRisks')
  @AllowRoles('operator', 'regulator', 'service')
  @ReadOnly()
  async listRisks(request: ListRisksRequest): Promise<ListRisksResponse> {
    const { risks, nextPageToken } = await this.risks.list(request);
    return { risks: risks.map(toRiskMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'ListQuarantines')
  @AllowRoles('operator', 'regulator', 'service')
  @ReadOnly()
  async listQuarantines(request: ListQuarantinesRequest): Promise<ListQuarantinesResponse> {
    const { quarantines, nextPageToken } = await this.risks.listQuarantines(request);
    return { quarantines: quarantines.map(toQuarantineMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'ConfirmQuarantine')
  @AllowRoles('operator')
  @Audited('quarantine', 'quarantineId')
  async confirmQuarantine(
    request: ConfirmQuarantineRequest,
    metadata: Metadata,
  ): Promise<ConfirmQuarantineResponse> {
    return {
      quarantine: toQuarantineMessage(await this.risks.confirm(callerOf(metadata), request)),
    };
  }

  @GrpcMethod(SERVICE, 'LiftQuarantine')
  @AllowRoles('operator')
  @Audited('quarantine', 'quarantineId')
  async liftQuarantine(
    request: LiftQuarantineRequest,
    metadata: Metadata,
  ): Promise<LiftQuarantineResponse> {
    return { quarantine: toQuarantineMessage(await this.risks.lift(callerOf(metadata), request)) };
  }
}
