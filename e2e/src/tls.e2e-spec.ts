import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { clientCredentials, isGrpcError } from '@cinode/grpc';
import { checkGrpcHealth } from '@cinode/local-infra';
import {
  IdentifierState,
  ObjectType,
  type Identifier,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import {
  ParticipantKind,
  ParticipantState,
  UserCategory,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { createTestPki, eventually, plaintext, type TestPki } from '@cinode/testing';
import { validCreditCode } from './support/fixtures';
import { as, startNode, type NodeUnderTest } from './support/node-processes';

/**
 * Issue 7: with the chart's production settings (TLS and mTLS on every listener) the identifier could
 * neither fetch the service center's keys nor file with the national node, because every client
 * spoke plaintext. Here the whole node runs with TLS and mTLS on every listener and every call
 * between the services (a CA made by this test signs one certificate per service and one for the
 * test), the entry-to-market flow passes, and every service refuses callers it cannot verify.
 */

/** Bound of waits for asynchronous work (events, registration, filing over TLS). */
const SETTLE_MS = 20_000;

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
  expect(codes).toEqual({ 'service-center': 0, 'national-node-mock': 0, identifier: 0 });
}, 30_000);

/** Resolves `call` once it stops failing with one of the transient codes. */
function once<T>(what: string, transient: GrpcStatus[], call: () => Promise<T>): Promise<T> {
  return eventually(
    what,
    async () => {
      try {
        return await call();
      } catch (error) {
        if (isGrpcError(error) && transient.includes(error.code)) return undefined;
        throw error;
      }
    },
    SETTLE_MS,
  );
}

describe('the node with TLS and mTLS everywhere (issue 7)', () => {
  it('an operator certifies a provider, whose resource-pool identifier is filed at the national node', async () => {
    const api = node.clients;
    const operator = as(
      (await api.tokens.issueToken({ apiKey: node.operatorBootstrapKey })).accessToken,
    );

    const name = `TLS Compute Co. ${randomUUID().slice(0, 8)}`;
    const creditCode = validCreditCode();
    const { participant } = await api.participants.createParticipant({
      requestId: randomUUID(),
      kind: ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
      userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
      name,
      organization: {
        creditCode,
        address: '1 Century Avenue, Pudong New Area, Shanghai',
        contactPerson: {
          name: 'Wang Fang',
          title: 'Network engineer',
          mobile: '13700137000',
          email: 'wang.fang@example.cn',
        },
        responsiblePerson: {
          name: 'Zhao Lei',
          title: 'Director',
          mobile: '13600136000',
          email: 'zhao.lei@example.cn',
        },
      },
      individual: undefined,
    });
    const participantId = participant!.id;
    await api.certification.startReview({ participantId, reason: 'documents received' }, operator);
    const certified = await api.certification.certifyParticipant(
      { participantId, reason: 'documents verified', requestId: randomUUID() },
      operator,
    );
    expect(certified.participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_CERTIFIED);
    const providerToken = await api.tokens.issueToken({
      apiKey: certified.issuedApiKey!.apiKeySecret,
    });

    // Accepted once the identifier has registered the node at the national node (over mTLS) and
    // seen the certification event; the provider's token is verified with the service center's
    // keys, which the identifier fetched over mTLS.
    const requestId = randomUUID();
    const issued = await once(
      'the identifier service to accept IssueIdentifier',
      [GrpcStatus.UNAVAILABLE, GrpcStatus.FAILED_PRECONDITION],
      () =>
        api.identifiers.issueIdentifier(
          {
            requestId,
            objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
            objectName: 'Pudong TLS pool',
            ownerParticipantId: '',
            ownerName: name,
            ownerCreditCode: creditCode,
            attributes: { region: '310115' },
          },
          as(providerToken.accessToken),
        ),
    );
    const identifier = issued.identifier!.identifier;
    expect(issued.identifier!.ownerParticipantId).toBe(participantId);

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
