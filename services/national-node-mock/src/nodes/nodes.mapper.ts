import { toTimestamp } from '@cinode/grpc';
import type { Node } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { NodeEntity } from './node.entity';

export function toNodeMessage(entity: NodeEntity): Node {
  return {
    nodeCode: entity.nodeCode,
    identifierPrefix: entity.identifierPrefix,
    nodeKey: entity.nodeKey,
    name: entity.name,
    nodeType: entity.nodeType,
    regionCode: entity.regionCode,
    operatorName: entity.operatorName,
    endpoint: entity.endpoint,
    registeredAt: toTimestamp(entity.registeredAt),
  };
}
