import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { AlreadyExistsError, FailedPreconditionError, UnavailableError } from '@cinode/common';
import { createGrpcClient, decodeRichStatus, isGrpcError, type GrpcClient } from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import {
  IdentifierState,
  ObjectType,
  type IdentifierServiceClient,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type { ComputeSelectionConfig } from '../config';
import { ErrorReason } from '../errors';
import type { LineFiling } from './line.entity';

export interface IssueLineIdentifier {
  requestId: string;
  name: string;
  ownerParticipantId: string;
  attributes: Record<string, string>;
}

/** The identifier service as lines need it; an interface so unit tests can replace it. */
export interface LineIdentifiers {
  /** The line's identifier and its filing state when issued (a retry may find it filed). */
  issue(request: IssueLineIdentifier): Promise<{ identifier: string; filing: LineFiling }>;
}

export const LINE_IDENTIFIERS = Symbol('LINE_IDENTIFIERS');

export function filingOf(state: IdentifierState): LineFiling {
  switch (state) {
    case IdentifierState.IDENTIFIER_STATE_FILED:
      return 'filed';
    case IdentifierState.IDENTIFIER_STATE_SUSPENDED:
    case IdentifierState.IDENTIFIER_STATE_RETIRED:
      return 'suspended';
    default:
      return 'pending';
  }
}

/**
 * Issues line identifiers (object type LN) at the identifier service, as this service. Resource
 * aggregation has the same gateway for pool identifiers (object type RP); the two differ in the
 * object type, their config and their errors' reasons.
 */
@Injectable()
export class IdentifierGateway implements LineIdentifiers, OnApplicationShutdown {
  private readonly client: GrpcClient<IdentifierServiceClient>;

  constructor(
    @InjectConfig() config: ComputeSelectionConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    this.client = createGrpcClient<IdentifierServiceClient>(
      'cinode.identifier.v1.IdentifierService',
      {
        address: config.IDENTIFIER_ADDRESS,
        credentials,
        defaultTimeoutMs: config.IDENTIFIER_TIMEOUT_MS,
        token: () => tokens.token(),
      },
    );
  }

  async issue(request: IssueLineIdentifier): Promise<{ identifier: string; filing: LineFiling }> {
    try {
      const { identifier } = await this.client.api.issueIdentifier({
        requestId: request.requestId,
        objectType: ObjectType.OBJECT_TYPE_LINE,
        objectName: request.name,
        ownerParticipantId: request.ownerParticipantId,
        ownerName: '',
        ownerCreditCode: '',
        attributes: request.attributes,
      });
      if (!identifier) throw new Error('IssueIdentifier answered without an identifier');
      return { identifier: identifier.identifier, filing: filingOf(identifier.state) };
    } catch (error) {
      throw refusalOf(error);
    }
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}

/** The identifier service's answer as this service's own error. */
function refusalOf(error: unknown): Error {
  if (!isGrpcError(error)) return error instanceof Error ? error : new Error(String(error));
  const reason = decodeRichStatus(error)?.errorInfo?.reason;
  if (error.code === GrpcStatus.FAILED_PRECONDITION && reason === 'OWNER_NOT_CERTIFIED')
    return new FailedPreconditionError(
      ErrorReason.OWNER_NOT_CERTIFIED,
      'the identifier service does not know the line provider as certified (yet)',
    );
  if (error.code === GrpcStatus.ALREADY_EXISTS)
    return new AlreadyExistsError('REQUEST_ID_REUSED', 'the request_id was used for another line');
  // Refusals a retry cannot change are not "unavailable".
  if (
    error.code === GrpcStatus.INVALID_ARGUMENT ||
    error.code === GrpcStatus.PERMISSION_DENIED ||
    error.code === GrpcStatus.FAILED_PRECONDITION ||
    error.code === GrpcStatus.RESOURCE_EXHAUSTED
  )
    return new FailedPreconditionError(
      ErrorReason.IDENTIFIER_REFUSED,
      `the identifier service refused the line's identifier: ${reason ?? GrpcStatus[error.code]}`,
      { metadata: { identifier_reason: reason ?? '' } },
    );
  return new UnavailableError(
    ErrorReason.IDENTIFIER_UNAVAILABLE,
    `the identifier service could not issue the line's identifier (${GrpcStatus[error.code] ?? error.code}); retry with the same request_id`,
    { retryAfterSeconds: 1 },
  );
}
