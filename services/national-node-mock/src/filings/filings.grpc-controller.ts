import { Controller, UseInterceptors } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Audited, ReadOnly } from '@cinode/audit';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  FileIdentifierRequest,
  FileIdentifierResponse,
  GetIdentifierFilingRequest,
  GetIdentifierFilingResponse,
  ListIdentifierFilingsRequest,
  ListIdentifierFilingsResponse,
  NationalNodeServiceController,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { FaultInterceptor } from '../faults/fault.interceptor';
import { toFilingMessage } from './filings.mapper';
import { FilingsService } from './filings.service';

const SERVICE = 'NationalNodeService';

@Controller()
@UseInterceptors(FaultInterceptor)
export class FilingsGrpcController
  implements
    Pick<
      NationalNodeServiceController,
      'fileIdentifier' | 'getIdentifierFiling' | 'listIdentifierFilings'
    >
{
  constructor(private readonly filings: FilingsService) {}

  @GrpcMethod(SERVICE, 'FileIdentifier')
  @AllowRoles('service')
  @Audited('identifier', 'identifier')
  async fileIdentifier(
    request: FileIdentifierRequest,
    metadata: Metadata,
  ): Promise<FileIdentifierResponse> {
    const { filing, created } = await this.filings.file(request, callerOf(metadata));
    return { filing: toFilingMessage(filing), created };
  }

  @GrpcMethod(SERVICE, 'GetIdentifierFiling')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async getIdentifierFiling(
    request: GetIdentifierFilingRequest,
    metadata: Metadata,
  ): Promise<GetIdentifierFilingResponse> {
    return {
      filing: toFilingMessage(await this.filings.get(request.identifier, callerOf(metadata))),
    };
  }

  @GrpcMethod(SERVICE, 'ListIdentifierFilings')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async listIdentifierFilings(
    request: ListIdentifierFilingsRequest,
    metadata: Metadata,
  ): Promise<ListIdentifierFilingsResponse> {
    const { filings, nextPageToken } = await this.filings.list(
      request.nodeCode,
      request.pageSize,
      request.pageToken,
      callerOf(metadata),
    );
    return { filings: filings.map(toFilingMessage), nextPageToken };
  }
}
