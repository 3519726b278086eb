import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { clientCredentials, isGrpcError } from '@cinode/grpc';
import { checkGrpcHealth } from '@cinode/local-infra';
import {
  IdentifierState,
  type Identifier,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { ParticipantKind } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { createTestPki, eventually, plaintext, type TestPki } from '@cinode/testing';
import { validCreditCode } from './support/fixtures';
import { SETTLE_MS, issueResourcePool, organisation, registerAndCertify } from './support/market';
import { KeyHolder, as, startNode, type NodeUnderTest } from './support/node-processes';

/**
 * Issue 7: with the chart's production settings (TLS and mTLS on every listener) the identifier could
 * neither fetch the service center's keys nor file with the national node, because every client
 * spoke plaintext. Here the whole node runs with TLS and mTLS on every listener and every call
 * between the services (a CA made by this test signs one certificate per service and one for the
 * test), the entry-to-market flow passes, and every service refuses callers it cannot verify.
 */

let node: NodeUnderTest;
/** A CA the node does not trust, and a certificate it signed. */
let strangers: TestPki;
let strangerCredentials: ChannelCredentials;

beforeAll(async () => {
  node = await startNode({ tokenTtlSeconds: 300, tls: true });
  strangers = await createTestPki('e2e-stranger');
  const stranger = await strangers.issue('stranger');
  strangerCredentials = clientCredentials({
    tls: true,
    // The node's CA, so the stranger trusts the node: only its own certificate is foreign.
    caFile: node.tls!.pki.caFile,
    ...stranger,
  });
}, 120_000);

afterAll(async () => {
  await strangers?.remove();
  if (!node) return;
  const codes = await node.stop();
  // Every service of the node stopped cleanly.
  expect(Object.entries(codes).filter(([, code]) => code !== 0)).toEqual([]);
  expect(Object.keys(codes)).toContain('identifier');
}, 30_000);

describe('the node with TLS and mTLS everywhere (issue 7)', () => {
  it('an operator certifies a provider, whose resource-pool identifier is filed at the national node', async () => {
    const api = node.clients;
    const operator = as(
      (await api.tokens.issueToken({ apiKey: node.operatorBootstrapKey })).accessToken,
    );

    const owner = {
      name: `TLS Compute Co. ${randomUUID().slice(0, 8)}`,
      creditCode: validCreditCode(),
    };
    const provider = await registerAndCertify(
      api,
      new KeyHolder(api.tokens, node.operatorBootstrapKey),
      organisation(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER, owner.name, owner.creditCode),
    );
    const providerToken = await api.tokens.issueToken({ apiKey: provider.apiKey });

    // Accepted once the identifier has registered the node at the national node (over mTLS) and
    // seen the certification event; the provider's token is verified with the service center's
    // keys, which the identifier fetched over mTLS.
    const issued = await issueResourcePool(
      api,
      providerToken.accessToken,
      owner,
      'Pudong TLS pool',
    );
    const identifier = issued.identifier;
    expect(issued.ownerParticipantId).toBe(provider.id);

    // Filed with the national node mock through the outbox, over mTLS.
    const filed = await eventually(
      `${identifier} to be filed`,
      async (): Promise<Identifier | undefined> => {
        const { identifier: record } = await api.identifiers.resolveIdentifier(
          { identifier },
          operator,
        );
        return record?.state === IdentifierState.IDENTIFIER_STATE_FILED ? record : undefined;
      },
      SETTLE_MS,
    );
    expect(filed.filingNumber).not.toBe('');

    // The identifier filed it over mTLS; the mock answers a token minted for its own audience
    // (a node token is refused there), over mTLS too.
    const { filing } = await api.national.getIdentifierFiling(
      { identifier },
      as(await node.nationalToken(['operator'])),
    );
    expect(filing).toMatchObject({ identifier, filingNumber: filed.filingNumber });
  }, 60_000);

  it('every service refuses a plaintext client, a client without a certificate and one from another CA', async () => {
    const withoutCertificate = clientCredentials({ tls: true, caFile: node.tls!.pki.caFile });
    const outcome = async (address: string, credentials: ChannelCredentials) => {
      try {
        return await checkGrpcHealth(address, '', 3_000, credentials);
      } catch (error) {
        return isGrpcError(error) ? GrpcStatus[error.code] : String(error);
      }
    };
    const seen: Record<string, Record<string, string>> = {};
    for (const service of [node.serviceCenter, node.identifier, node.nationalNode]) {
      seen[service.name] = {
        mtls: await outcome(service.address, node.credentials),
        plaintext: await outcome(service.address, plaintext()),
        'no certificate': await outcome(service.address, withoutCertificate),
        'another CA': await outcome(service.address, strangerCredentials),
      };
    }
    const expected = {
      mtls: 'SERVING',
      plaintext: 'UNAVAILABLE',
      'no certificate': 'UNAVAILABLE',
      'another CA': 'UNAVAILABLE',
    };
    expect(seen).toEqual({
      'service-center': expected,
      identifier: expected,
      'national-node-mock': expected,
    });
  }, 30_000);
});
