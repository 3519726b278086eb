import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { ReadOnly } from '@cinode/audit';
import { AllowAuthenticated, callerOf } from '@cinode/auth';
import { frozenResponses } from '@cinode/grpc';
import type {
  IdentifierServiceController,
  ListIdentifiersRequest,
  ListIdentifiersResponse,
  ResolveIdentifierRequest,
  ResolveIdentifierResponse,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { toIdentifierMessage } from '../identifiers/identifiers.mapper';
import type { IdentifierRecord } from '../identifiers/identifiers.repository';
import { QueriesService } from './queries.service';

const resolvedResponse = frozenResponses(
  (record: IdentifierRecord): ResolveIdentifierResponse => ({
    identifier: toIdentifierMessage(record.entity, record.transitions, record.poolState),
  }),
);

const SERVICE = 'IdentifierService';

@Controller()
export class QueriesGrpcController
  implements Pick<IdentifierServiceController, 'resolveIdentifier' | 'listIdentifiers'>
{
  constructor(private readonly queries: QueriesService) {}

  @GrpcMethod(SERVICE, 'ResolveIdentifier')
  @AllowAuthenticated()
  @ReadOnly()
  resolveIdentifier(
    request: ResolveIdentifierRequest,
    metadata: Metadata,
  ): ResolveIdentifierResponse | Promise<ResolveIdentifierResponse> {
    const caller = callerOf(metadata);
    // A remembered record answers many calls at once, with one frozen response encoded once.
    const known = this.queries.remembered(caller, request.identifier);
    if (known) return resolvedResponse(known);
    return this.queries.resolve(caller, request.identifier).then(resolvedResponse);
  }

  @GrpcMethod(SERVICE, 'ListIdentifiers')
  @AllowAuthenticated()
  @ReadOnly()
  async listIdentifiers(
    request: ListIdentifiersRequest,
    metadata: Metadata,
  ): Promise<ListIdentifiersResponse> {
    const { identifiers, nextPageToken } = await this.queries.list(callerOf(metadata), request);
    return { identifiers: identifiers.map((i) => toIdentifierMessage(i)), nextPageToken };
  }
}
