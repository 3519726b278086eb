import { Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  FieldChecks,
  NotFoundError,
  assertUnreachable,
  resolvePageSize,
  PageTokens,
} from '@cinode/common';
import {
  NodeType,
  type RegisterNodeRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type { MockConfig } from '../config';
import { contentSha256 } from '../content-hash';
import { ErrorReason, NATIONAL_SCOPE } from '../errors';
import type { Caller } from '@cinode/auth';
import { actsFor, assertActsFor, ownerScopeOf } from './node-access';
import type { NodeEntity } from './node.entity';
import { NodesRepository } from './nodes.repository';

export const NODE_KEY_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const NODE_CODE_PATTERN = /^[RI]\d{4}$/;

/** The FieldChecks.text rules of a node code (R0001 for a regional node, I0001 for an industry one). */
export const NODE_CODE_RULES = {
  max: 5,
  pattern: NODE_CODE_PATTERN,
  patternHint: 'must look like R0001',
} as const;

function typeLetter(type: NodeType): string {
  switch (type) {
    case NodeType.NODE_TYPE_REGIONAL:
      return 'R';
    case NodeType.NODE_TYPE_INDUSTRY:
      return 'I';
    case NodeType.NODE_TYPE_UNSPECIFIED:
      throw new Error('node type must be validated before a code is assigned');
    default:
      return assertUnreachable(type, 'node type');
  }
}

@Injectable()
export class NodesService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly nodes: NodesRepository,
    @InjectConfig() private readonly config: MockConfig,
    private readonly pageTokens: PageTokens,
  ) {}

  async register(
    request: RegisterNodeRequest,
    caller: Caller,
  ): Promise<{ node: NodeEntity; created: boolean }> {
    new FieldChecks()
      .text('node_key', request.nodeKey, {
        max: 128,
        pattern: NODE_KEY_PATTERN,
        patternHint: "must be letters, digits, '.', '_' or '-'",
      })
      .text('name', request.name, { max: 200 })
      .enumValue('node_type', request.nodeType, [
        NodeType.NODE_TYPE_REGIONAL,
        NodeType.NODE_TYPE_INDUSTRY,
      ])
      .text('region_code', request.regionCode, {
        max: 6,
        pattern: /^\d{6}$/,
        patternHint: 'must be a six-digit division code',
      })
      .text('operator_name', request.operatorName, { max: 200 })
      .text('endpoint', request.endpoint, { required: false, max: 512 })
      .throwIfAny();

    const candidate = {
      nodeKey: request.nodeKey,
      name: request.name,
      nodeType: request.nodeType,
      regionCode: request.regionCode,
      operatorName: request.operatorName,
      endpoint: request.endpoint,
      ownerKeyId: caller.signingKeyId ?? '',
    };
    // The same key again is the same node, as long as its type and region agree (names may change).
    const outcome = await this.uow.idempotentInsert(
      {
        scope: NATIONAL_SCOPE,
        requestId: `node:${request.nodeKey}`,
        operation: 'RegisterNode',
        fingerprint: contentSha256({ nodeType: request.nodeType, regionCode: request.regionCode }),
      },
      async (tx) => {
        const node = await this.nodes.insert(
          tx,
          candidate,
          this.config.NATIONAL_PREFIX,
          typeLetter(request.nodeType),
        );
        return { result: node, objectId: node.nodeCode };
      },
      {
        conflict: (nodeCode) =>
          new AlreadyExistsError(
            ErrorReason.NODE_KEY_CONFLICT,
            `node key ${request.nodeKey} is registered as node ${nodeCode} with a different type or region`,
            { metadata: { node_code: nodeCode } },
          ),
      },
    );
    if (outcome.created) return { node: outcome.result, created: true };
    // The same node key again: the same node, if the caller's key is the one that registered it.
    let node = await this.find(outcome.objectId);
    if (node.ownerKeyId === '' && caller.signingKeyId) {
      await this.nodes.adopt(node.nodeCode, caller.signingKeyId);
      node = await this.find(node.nodeCode);
    }
    assertActsFor(caller, node);
    return { node, created: false };
  }

  private async find(nodeCode: string): Promise<NodeEntity> {
    const node = await this.nodes.findByCode(nodeCode);
    if (!node) throw new Error(`node ${nodeCode} was registered but cannot be read`);
    return node;
  }

  /** One node; a node's service sees only its own (another's is not found). */
  async get(nodeCode: string, caller: Caller): Promise<NodeEntity> {
    new FieldChecks().text('node_code', nodeCode, NODE_CODE_RULES).throwIfAny();
    const node = await this.nodes.findByCode(nodeCode);
    if (!node || !actsFor(caller, node))
      throw new NotFoundError(ErrorReason.NODE_NOT_FOUND, `node ${nodeCode} is not registered`);
    return node;
  }

  async list(
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ nodes: NodeEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(pageSize);
    const scope = ownerScopeOf(caller);
    const filterKey = scope === undefined ? 'nodes' : `nodes:${scope}`;
    const after = this.pageTokens.decode(pageToken, filterKey);
    const rows = await this.nodes.list(limit, after, scope);
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (n) => ({ after: n.registeredAt.toISOString(), afterId: n.nodeCode }),
      filterKey,
    );
    return { nodes: page, nextPageToken };
  }
}
