import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { AlreadyExistsError, FailedPreconditionError, UnavailableError } from '@cinode/common';
import {
  PEER_CONNECTIONS,
  createGrpcClient,
  decodeRichStatus,
  isGrpcError,
  type GrpcClient,
} from '@cinode/grpc';
import type {
  IdentifierServiceClient,
  ObjectType,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { filingOf, type Filing } from './filing';

export interface IssueRequest {
  /** Idempotency key at the identifier service (unique per calling service). */
  requestId: string;
  name: string;
  ownerParticipantId: string;
  attributes: Record<string, string>;
}

export interface IssuedIdentifier {
  identifier: string;
  /** Its filing when issued (a retried issue may find it filed already). */
  filing: Filing;
}

export interface IdentifierIssuerOptions {
  /** The object type every identifier this issuer asks for names. */
  objectType: ObjectType;
  /** What the object is called in errors: "pool", "line". */
  noun: string;
  /** The owner's role in errors: "provider", "line provider". */
  owner: string;
  address: string;
  credentials: ChannelCredentials;
  timeoutMs: number;
  /** This service's token for the call. */
  token: () => Promise<string>;
  /** The calling service's own ErrorInfo reasons for the refusals a caller can act on. */
  reasons: { ownerNotCertified: string; refused: string; unavailable: string };
}

/**
 * Issues identifiers of one object type at the identifier service, as the calling service, and
 * answers its refusals as the caller's own errors: an owner the identifier service does not know
 * as certified yet, a reused request id, a refusal a retry cannot change, or the service being
 * unavailable (retry with the same request id).
 */
export class IdentifierIssuer {
  private readonly client: GrpcClient<IdentifierServiceClient>;

  constructor(private readonly options: IdentifierIssuerOptions) {
    this.client = createGrpcClient<IdentifierServiceClient>(
      'cinode.identifier.v1.IdentifierService',
      {
        address: options.address,
        credentials: options.credentials,
        defaultTimeoutMs: options.timeoutMs,
        token: options.token,
        connections: PEER_CONNECTIONS,
      },
    );
  }

  async issue(request: IssueRequest): Promise<IssuedIdentifier> {
    try {
      const { identifier } = await this.client.api.issueIdentifier({
        requestId: request.requestId,
        objectType: this.options.objectType,
        objectName: request.name,
        ownerParticipantId: request.ownerParticipantId,
        ownerName: '',
        ownerCreditCode: '',
        attributes: request.attributes,
      });
      if (!identifier) throw new Error('IssueIdentifier answered without an identifier');
      return { identifier: identifier.identifier, filing: filingOf(identifier.state) };
    } catch (error) {
      throw this.refusalOf(error);
    }
  }

  close(): void {
    this.client.close();
  }

  /** The identifier service's answer as the calling service's own error. */
  private refusalOf(error: unknown): Error {
    if (!isGrpcError(error)) return error instanceof Error ? error : new Error(String(error));
    const { noun, owner, reasons } = this.options;
    const reason = decodeRichStatus(error)?.errorInfo?.reason;
    if (error.code === GrpcStatus.FAILED_PRECONDITION && reason === 'OWNER_NOT_CERTIFIED')
      return new FailedPreconditionError(
        reasons.ownerNotCertified,
        `the identifier service does not know the ${owner} as certified (yet)`,
      );
    if (error.code === GrpcStatus.ALREADY_EXISTS)
      return new AlreadyExistsError(
        'REQUEST_ID_REUSED',
        `the request_id was used for another ${noun}`,
      );
    // Refusals a retry cannot change are not "unavailable".
    if (
      error.code === GrpcStatus.INVALID_ARGUMENT ||
      error.code === GrpcStatus.PERMISSION_DENIED ||
      error.code === GrpcStatus.FAILED_PRECONDITION ||
      error.code === GrpcStatus.RESOURCE_EXHAUSTED
    )
      return new FailedPreconditionError(
        reasons.refused,
        `the identifier service refused the ${noun}'s identifier: ${reason ?? GrpcStatus[error.code]}`,
        { metadata: { identifier_reason: reason ?? '' } },
      );
    return new UnavailableError(
      reasons.unavailable,
      `the identifier service could not issue the ${noun}'s identifier (${GrpcStatus[error.code] ?? error.code}); retry with the same request_id`,
      { retryAfterSeconds: 1 },
    );
  }
}
