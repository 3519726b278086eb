import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { AllowAuthenticated, AllowRoles, callerOf } from '@cinode/auth';
import type {
  IdentifierServiceController,
  IssueIdentifierRequest,
  IssueIdentifierResponse,
  ListIdentifiersRequest,
  ListIdentifiersResponse,
  ReinstateIdentifierRequest,
  ReinstateIdentifierResponse,
  ResolveIdentifierRequest,
  ResolveIdentifierResponse,
  RetireIdentifierRequest,
  RetireIdentifierResponse,
  SuspendIdentifierRequest,
  SuspendIdentifierResponse,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { toIdentifierMessage } from './identifiers.mapper';
import { IdentifiersService } from './identifiers.service';

const SERVICE = 'IdentifierService';

@Controller()
export class IdentifiersGrpcController implements IdentifierServiceController {
  constructor(private readonly identifiers: IdentifiersService) {}

  @GrpcMethod(SERVICE, 'IssueIdentifier')
  @AllowRoles(
    'operator',
    'service',
    'provider',
    'reseller',
    'application_provider',
    'line_provider',
    'user',
  )
  async issueIdentifier(
    request: IssueIdentifierRequest,
    metadata: Metadata,
  ): Promise<IssueIdentifierResponse> {
    const { record, created } = await this.identifiers.issue(callerOf(metadata), request);
    return { identifier: toIdentifierMessage(record.entity, record.transitions), created };
  }

  @GrpcMethod(SERVICE, 'ResolveIdentifier')
  @AllowAuthenticated()
  async resolveIdentifier(
    request: ResolveIdentifierRequest,
    metadata: Metadata,
  ): Promise<ResolveIdentifierResponse> {
    const record = await this.identifiers.resolve(callerOf(metadata), request.identifier);
    return { identifier: toIdentifierMessage(record.entity, record.transitions) };
  }

  @GrpcMethod(SERVICE, 'ListIdentifiers')
  @AllowAuthenticated()
  async listIdentifiers(
    request: ListIdentifiersRequest,
    metadata: Metadata,
  ): Promise<ListIdentifiersResponse> {
    const { identifiers, nextPageToken } = await this.identifiers.list(callerOf(metadata), request);
    return { identifiers: identifiers.map((i) => toIdentifierMessage(i)), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'SuspendIdentifier')
  @AllowRoles('operator')
  async suspendIdentifier(
    request: SuspendIdentifierRequest,
    metadata: Metadata,
  ): Promise<SuspendIdentifierResponse> {
    const record = await this.identifiers.suspend(
      callerOf(metadata),
      request.identifier,
      request.reason,
    );
    return { identifier: toIdentifierMessage(record.entity, record.transitions) };
  }

  @GrpcMethod(SERVICE, 'ReinstateIdentifier')
  @AllowRoles('operator')
  async reinstateIdentifier(
    request: ReinstateIdentifierRequest,
    metadata: Metadata,
  ): Promise<ReinstateIdentifierResponse> {
    const record = await this.identifiers.reinstate(
      callerOf(metadata),
      request.identifier,
      request.reason,
    );
    return { identifier: toIdentifierMessage(record.entity, record.transitions) };
  }

  @GrpcMethod(SERVICE, 'RetireIdentifier')
  @AllowRoles('operator', 'provider', 'reseller', 'application_provider', 'line_provider', 'user')
  async retireIdentifier(
    request: RetireIdentifierRequest,
    metadata: Metadata,
  ): Promise<RetireIdentifierResponse> {
    const record = await this.identifiers.retire(
      callerOf(metadata),
      request.identifier,
      request.reason,
    );
    return { identifier: toIdentifierMessage(record.entity, record.transitions) };
  }
}
