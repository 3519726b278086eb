import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  FieldChecks,
  NotFoundError,
  assertUnreachable,
  decodePageToken,
  pageOf,
  resolvePageSize,
} from '@cinode/common';
import {
  NodeType,
  type RegisterNodeRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { MOCK_CONFIG, type MockConfig } from '../config';
import type { NodeEntity } from './node.entity';
import { NodesRepository } from './nodes.repository';

export const NODE_KEY_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const NODE_CODE_PATTERN = /^[RI]\d{4}$/;

export enum NodeErrorReason {
  NODE_NOT_FOUND = 'NODE_NOT_FOUND',
  NODE_KEY_CONFLICT = 'NODE_KEY_CONFLICT',
}

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
    private readonly nodes: NodesRepository,
    @Inject(MOCK_CONFIG) private readonly config: MockConfig,
  ) {}

  async register(request: RegisterNodeRequest): Promise<{ node: NodeEntity; created: boolean }> {
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
    };
    const inserted = await this.nodes.insertIfAbsent(
      candidate,
      this.config.NATIONAL_PREFIX,
      typeLetter(request.nodeType),
    );
    if (inserted) return { node: inserted, created: true };

    const existing = await this.nodes.findByKey(request.nodeKey);
    if (!existing)
      throw new Error(`node ${request.nodeKey} conflicted on insert but cannot be read`);
    if (
      existing.nodeType !== (request.nodeType as number) ||
      existing.regionCode !== request.regionCode
    ) {
      throw new AlreadyExistsError(
        NodeErrorReason.NODE_KEY_CONFLICT,
        `node key ${request.nodeKey} is registered as node ${existing.nodeCode} with a different type or region`,
        { metadata: { node_code: existing.nodeCode } },
      );
    }
    return { node: existing, created: false };
  }

  async get(nodeCode: string): Promise<NodeEntity> {
    new FieldChecks()
      .text('node_code', nodeCode, {
        max: 5,
        pattern: NODE_CODE_PATTERN,
        patternHint: 'must look like R0001',
      })
      .throwIfAny();
    const node = await this.nodes.findByCode(nodeCode);
    if (!node)
      throw new NotFoundError(NodeErrorReason.NODE_NOT_FOUND, `node ${nodeCode} is not registered`);
    return node;
  }

  async list(
    pageSize: number,
    pageToken: string,
  ): Promise<{ nodes: NodeEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(pageSize);
    const after = decodePageToken(pageToken, 'nodes');
    const rows = await this.nodes.list(limit, after);
    const { page, nextPageToken } = pageOf(
      rows,
      limit,
      (n) => ({ after: n.registeredAt.toISOString(), afterId: n.nodeCode }),
      'nodes',
    );
    return { nodes: page, nextPageToken };
  }
}
