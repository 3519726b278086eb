import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import {
  IdentifierIssuer,
  type IssueRequest,
  type IssuedIdentifier,
} from '@cinode/identifier-client';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import { ObjectType } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type { ComputeSelectionConfig } from '../config';
import { ErrorReason } from '../errors';

export type IssueLineIdentifier = IssueRequest;

/** The identifier service as lines need it; an interface so unit tests can replace it. */
export interface LineIdentifiers {
  /** The line's identifier and its filing state when issued (a retry may find it filed). */
  issue(request: IssueLineIdentifier): Promise<IssuedIdentifier>;
}

export const LINE_IDENTIFIERS = Symbol('LINE_IDENTIFIERS');

/** Issues line identifiers (object type LN) at the identifier service, as this service. */
@Injectable()
export class IdentifierGateway implements LineIdentifiers, OnApplicationShutdown {
  private readonly issuer: IdentifierIssuer;

  constructor(
    @InjectConfig() config: ComputeSelectionConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    this.issuer = new IdentifierIssuer({
      objectType: ObjectType.OBJECT_TYPE_LINE,
      noun: 'line',
      owner: 'line provider',
      address: config.IDENTIFIER_ADDRESS,
      credentials,
      timeoutMs: config.IDENTIFIER_TIMEOUT_MS,
      token: () => tokens.token(),
      reasons: {
        ownerNotCertified: ErrorReason.OWNER_NOT_CERTIFIED,
        refused: ErrorReason.IDENTIFIER_REFUSED,
        unavailable: ErrorReason.IDENTIFIER_UNAVAILABLE,
      },
    });
  }

  issue(request: IssueLineIdentifier): Promise<IssuedIdentifier> {
    return this.issuer.issue(request);
  }

  onApplicationShutdown(): void {
    this.issuer.close();
  }
}
