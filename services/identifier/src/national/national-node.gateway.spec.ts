import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  type ServerUnaryCall,
  type ServiceClientConstructor,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  NATIONAL_NODE_AUDIENCE,
  ServiceTokenSource,
  TokenVerifier,
  parseJwks,
  signingKeyFromPrivateJwk,
} from '@cinode/auth';
import { cinodePackageDefinition } from '@cinode/proto';
import {
  NodeType,
  type RegisterNodeRequest,
  type RegisterNodeResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { TEST_TOKEN_SETTINGS, createTestAuth, expectDomainError } from '@cinode/testing';
import type { IdentifierConfig } from '../config';
import { NationalNodeGateway } from './national-node.gateway';

/** A loopback NationalNodeService that answers RegisterNode and keeps the bearer tokens it saw. */
async function startRecordingNationalNode(): Promise<{
  address: string;
  tokens: string[];
  stop(): Promise<void>;
}> {
  let node: unknown = loadPackageDefinition(cinodePackageDefinition());
  for (const part of 'cinode.national.v1.NationalNodeService'.split('.'))
    node = (node as Record<string, unknown>)[part];
  const service = (node as ServiceClientConstructor).service;
  const tokens: string[] = [];
  const server = new Server();
  server.addService(service, {
    RegisterNode: (
      call: ServerUnaryCall<RegisterNodeRequest, RegisterNodeResponse>,
      callback: sendUnaryData<RegisterNodeResponse>,
    ) => {
      const header = call.metadata.get('authorization')[0];
      tokens.push(typeof header === 'string' ? header.replace(/^Bearer /, '') : '');
      callback(null, { node: undefined, created: false });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    tokens,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

describe(NationalNodeGateway.name, () => {
  it('presents a token minted for the national node, which node services refuse', async () => {
    const auth = await createTestAuth();
    const national = await startRecordingNationalNode();
    const config = {
      NATIONAL_NODE_ADDRESS: national.address,
      NATIONAL_NODE_TIMEOUT_MS: 5_000,
      NATIONAL_NODE_AUDIENCE,
    } as IdentifierConfig;
    const gateway = new NationalNodeGateway(
      config,
      new ServiceTokenSource(
        'identifier',
        signingKeyFromPrivateJwk(auth.serviceSigningKey),
        TEST_TOKEN_SETTINGS,
      ),
    );
    try {
      await gateway.registerNode({
        nodeKey: 'k',
        name: 'n',
        nodeType: NodeType.NODE_TYPE_REGIONAL,
        regionCode: '310000',
        operatorName: 'o',
        endpoint: '',
      });
      expect(national.tokens).toHaveLength(1);
      const keys = parseJwks(auth.publicKeys);
      const atTheNationalNode = new TokenVerifier(keys, {
        ...TEST_TOKEN_SETTINGS,
        audience: NATIONAL_NODE_AUDIENCE,
      });
      expect(await atTheNationalNode.verify(national.tokens[0])).toMatchObject({
        subject: 'identifier',
        roles: ['service'],
      });
      // Replayed inside the node (audience `cinode`), the same token is no token at all.
      const atANodeService = new TokenVerifier(keys, TEST_TOKEN_SETTINGS);
      expect((await expectDomainError(atANodeService.verify(national.tokens[0]))).reason).toBe(
        'TOKEN_AUDIENCE_MISMATCH',
      );
    } finally {
      gateway.onApplicationShutdown();
      await national.stop();
    }
  });
});
