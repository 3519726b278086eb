import { status as GrpcStatus, Metadata } from '@grpc/grpc-js';
import { DomainError } from '@cinode/common';
import {
  NodeType,
  type RegisterNodeRequest,
  type RegisterNodeResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { IdentifierConfig } from '../config';
import type { NationalNode } from '../national/national-node.gateway';
import type { NodeRegistrationEntity } from './node-registration.entity';
import type {
  NewNodeRegistration,
  NodeRegistrationRepository,
} from './node-registration.repository';
import { NodeRegistrationService } from './node-registration.service';

class FakeRegistrationRepository {
  row: NodeRegistrationEntity | undefined;

  find(): Promise<NodeRegistrationEntity | undefined> {
    return Promise.resolve(this.row);
  }

  saveIfAbsent(registration: NewNodeRegistration): Promise<NodeRegistrationEntity> {
    this.row ??= { ...registration, id: 1, registeredAt: new Date() };
    return Promise.resolve(this.row);
  }
}

/** Fails the first `failures` calls with UNAVAILABLE, then registers. */
class FakeNationalNode implements NationalNode {
  calls: RegisterNodeRequest[] = [];
  constructor(private failures: number) {}

  registerNode(request: RegisterNodeRequest): Promise<RegisterNodeResponse> {
    this.calls.push(request);
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(
        Object.assign(new Error('14 UNAVAILABLE: down'), {
          code: GrpcStatus.UNAVAILABLE,
          metadata: new Metadata(),
        }),
      );
    }
    return Promise.resolve({
      created: true,
      node: {
        nodeCode: 'I0007',
        identifierPrefix: 'CN.I0007',
        nodeKey: request.nodeKey,
        name: request.name,
        nodeType: request.nodeType,
        regionCode: request.regionCode,
        operatorName: request.operatorName,
        endpoint: '',
        registeredAt: undefined,
      },
    });
  }

  fileIdentifier(): never {
    throw new Error('not used');
  }
}

const baseConfig = {
  NODE_KEY: 'install-1',
  NODE_NAME: 'Node',
  NODE_TYPE: 'industry',
  NODE_REGION_CODE: '110000',
  NODE_OPERATOR_NAME: 'Operator',
  REGISTRATION_RETRY_INITIAL_MS: 1,
  REGISTRATION_RETRY_MAX_MS: 5,
} as IdentifierConfig;

function subject(config: Partial<IdentifierConfig>, failures = 0) {
  const repository = new FakeRegistrationRepository();
  const national = new FakeNationalNode(failures);
  const service = new NodeRegistrationService(
    { ...baseConfig, ...config },
    repository as unknown as NodeRegistrationRepository,
    national,
  );
  return { service, repository, national };
}

/** Polls until the condition holds; bounded at 5 s, since the retries run on real timers. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition() && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}

describe(NodeRegistrationService.name, () => {
  it('answers UNAVAILABLE until the national node registers the node, retrying through failures', async () => {
    const { service, repository, national } = subject({}, 3);
    await service.onApplicationBootstrap();
    expect(() => service.require()).toThrow(DomainError);
    await waitFor(() => service.current() !== undefined);
    expect(national.calls).toHaveLength(4);
    expect(national.calls[0].nodeType).toBe(NodeType.NODE_TYPE_INDUSTRY);
    expect(service.require()).toMatchObject({ nodeCode: 'I0007', identifierPrefix: 'CN.I0007' });
    expect(repository.row?.source).toBe('national_node');
    await service.beforeApplicationShutdown();
  });

  it('takes a configured registration without calling the national node', async () => {
    const { service, national } = subject({ NODE_CODE: 'R0003', IDENTIFIER_PREFIX: 'CN.R0003' });
    await service.onApplicationBootstrap();
    expect(service.require()).toMatchObject({ nodeCode: 'R0003', identifierPrefix: 'CN.R0003' });
    expect(national.calls).toHaveLength(0);
  });

  it('refuses a configured prefix that contradicts the stored one', async () => {
    const { service, repository } = subject({ NODE_CODE: 'R0003', IDENTIFIER_PREFIX: 'CN.R0003' });
    repository.row = {
      id: 1,
      nodeCode: 'R0001',
      identifierPrefix: 'CN.R0001',
      nodeKey: 'k',
      source: 'national_node',
      registeredAt: new Date(),
    };
    await expect(service.onApplicationBootstrap()).rejects.toThrow(/differ/);
  });

  it('uses the stored registration after a restart', async () => {
    const { service, repository, national } = subject({});
    repository.row = {
      id: 1,
      nodeCode: 'R0001',
      identifierPrefix: 'CN.R0001',
      nodeKey: 'k',
      source: 'national_node',
      registeredAt: new Date(),
    };
    await service.onApplicationBootstrap();
    expect(service.require().identifierPrefix).toBe('CN.R0001');
    expect(national.calls).toHaveLength(0);
  });
});
