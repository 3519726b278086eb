import type { Caller } from '@cinode/auth';
import {
  AlreadyExistsError,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  PageTokens,
} from '@cinode/common';
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
    const row = this.rows.find((r) => r.nodeCode === nodeCode);
    return Promise.resolve(row && { ...row });
  }

  adopt(nodeCode: string, ownerKeyId: string): Promise<void> {
    const row = this.rows.find((r) => r.nodeCode === nodeCode);
    if (row && row.ownerKeyId === '') row.ownerKeyId = ownerKeyId;
    return Promise.resolve();
  }
}

/** A node's own service, calling with a token signed by that node's service key. */
function nodeService(signingKeyId: string): Caller {
  return {
    subject: 'identifier',
    roles: ['service'],
    tenant: 'identifier',
    tokenId: 't',
    expiresAt: new Date(Date.now() + 60_000),
    signingKeyId,
  };
}

const asNode = nodeService('node-a-key');
const operator: Caller = { ...asNode, roles: ['operator'], signingKeyId: 'national-staff-key' };

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
    const { node, created } = await nodes.register(request, asNode);
    expect(created).toBe(true);
    expect(node.nodeCode).toBe('I0001');
    expect(node.identifierPrefix).toBe('CN.I0001');
  });

  it('returns the existing registration for a retried key', async () => {
    const { nodes, repository } = subject();
    await nodes.register(request, asNode);
    const again = await nodes.register(request, asNode);
    expect(again.created).toBe(false);
    expect(repository.rows).toHaveLength(1);
  });

  it('rejects a retried key with a different node type, naming the registered node', async () => {
    const { nodes } = subject();
    const first = await nodes.register(request, asNode);
    const refused = nodes.register({ ...request, nodeType: NodeType.NODE_TYPE_REGIONAL }, asNode);
    await expect(refused).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(refused).rejects.toMatchObject({
      reason: 'NODE_KEY_CONFLICT',
      metadata: { node_code: first.node.nodeCode },
    });
  });

  it('rejects an unknown node type value', async () => {
    const { nodes } = subject();
    await expect(
      nodes.register({ ...request, nodeType: 9 as NodeType }, asNode),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it("binds a node to the service key that registered it: another node's key cannot take it over", async () => {
    const { nodes, repository } = subject();
    const { node } = await nodes.register(request, asNode);
    expect(repository.rows[0].ownerKeyId).toBe('node-a-key');
    await expect(nodes.register(request, nodeService('node-b-key'))).rejects.toMatchObject({
      reason: 'NODE_NOT_OWNED',
    });
    await expect(nodes.register(request, nodeService('node-b-key'))).rejects.toBeInstanceOf(
      PermissionDeniedError,
    );
    // Reads: another node's service does not see it; the national node's staff do.
    await expect(nodes.get(node.nodeCode, nodeService('node-b-key'))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect((await nodes.get(node.nodeCode, operator)).nodeCode).toBe(node.nodeCode);
    expect((await nodes.get(node.nodeCode, asNode)).nodeCode).toBe(node.nodeCode);
  });

  it('binds a node registered before nodes were bound to the key of its next registration', async () => {
    const { nodes, repository } = subject();
    await nodes.register(request, asNode);
    repository.rows[0].ownerKeyId = '';
    const again = await nodes.register(request, nodeService('node-c-key'));
    expect(again.node.ownerKeyId).toBe('node-c-key');
    await expect(nodes.register(request, asNode)).rejects.toBeInstanceOf(PermissionDeniedError);
  });
});
