import { AlreadyExistsError, ValidationError, PageTokens } from '@cinode/common';
import {
  NodeType,
  type RegisterNodeRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { MockConfig } from '../config';
import type { NodeEntity } from './node.entity';
import type { NewNode, NodesRepository } from './nodes.repository';
import { NodesService } from './nodes.service';
import { FakeUnitOfWork } from '@cinode/testing';

/** An in-memory fake of the repository: enough to test the service's rules, nothing more. */
class FakeNodesRepository {
  readonly rows: NodeEntity[] = [];
  private seq = 0;

  insert(_tx: unknown, node: NewNode, prefix: string, letter: string): Promise<NodeEntity> {
    this.seq += 1;
    if (this.rows.some((r) => r.nodeKey === node.nodeKey)) throw new Error('duplicate node key');
    const code = `${letter}${String(this.seq).padStart(4, '0')}`;
    const row: NodeEntity = {
      ...node,
      nodeCode: code,
      identifierPrefix: `${prefix}.${code}`,
      registeredAt: new Date(),
    };
    this.rows.push(row);
    return Promise.resolve(row);
  }

  findByCode(nodeCode: string): Promise<NodeEntity | undefined> {
    return Promise.resolve(this.rows.find((r) => r.nodeCode === nodeCode));
  }
}

const request: RegisterNodeRequest = {
  nodeKey: 'install-1',
  name: 'Node',
  nodeType: NodeType.NODE_TYPE_INDUSTRY,
  regionCode: '110000',
  operatorName: 'Operator',
  endpoint: '',
};

function subject(): { nodes: NodesService; repository: FakeNodesRepository } {
  const repository = new FakeNodesRepository();
  const nodes = new NodesService(
    new FakeUnitOfWork().asUnitOfWork,
    repository as unknown as NodesRepository,
    { NATIONAL_PREFIX: 'CN' } as MockConfig,
    PageTokens.ephemeral(),
  );
  return { nodes, repository };
}

describe(NodesService.name, () => {
  it('gives industry nodes an I code under the national prefix', async () => {
    const { nodes } = subject();
    const { node, created } = await nodes.register(request);
    expect(created).toBe(true);
    expect(node.nodeCode).toBe('I0001');
    expect(node.identifierPrefix).toBe('CN.I0001');
  });

  it('returns the existing registration for a retried key', async () => {
    const { nodes, repository } = subject();
    await nodes.register(request);
    const again = await nodes.register(request);
    expect(again.created).toBe(false);
    expect(repository.rows).toHaveLength(1);
  });

  it('rejects a retried key with a different node type, naming the registered node', async () => {
    const { nodes } = subject();
    const first = await nodes.register(request);
    const refused = nodes.register({ ...request, nodeType: NodeType.NODE_TYPE_REGIONAL });
    await expect(refused).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(refused).rejects.toMatchObject({
      reason: 'NODE_KEY_CONFLICT',
      metadata: { node_code: first.node.nodeCode },
    });
  });

  it('rejects an unknown node type value', async () => {
    const { nodes } = subject();
    await expect(nodes.register({ ...request, nodeType: 9 as NodeType })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
