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
import type { ResourceAggregationConfig } from '../config';
import { ErrorReason } from '../errors';

/** The identifier service as pools need it; an interface so unit tests can replace it. */
export interface PoolIdentifiers {
  issue(request: IssueRequest): Promise<IssuedIdentifier>;
}

export const POOL_IDENTIFIERS = Symbol('POOL_IDENTIFIERS');

/** Issues pool identifiers (object type RP) at the identifier service, as this service. */
@Injectable()
export class IdentifierGateway implements PoolIdentifiers, OnApplicationShutdown {
  private readonly issuer: IdentifierIssuer;

  constructor(
    @InjectConfig() config: ResourceAggregationConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    this.issuer = new IdentifierIssuer({
      objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
      noun: 'pool',
      owner: 'provider',
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

  issue(request: IssueRequest): Promise<IssuedIdentifier> {
    return this.issuer.issue(request);
  }

  onApplicationShutdown(): void {
    this.issuer.close();
  }
}
