import { randomBytes, randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { generateApiKey } from '@cinode/common';
import { ApiKeyState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  createTestAuth,
  createTestDatabase,
  expectGrpcError,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import { startServiceCenter, type ServiceCenterUnderTest } from './service-center-harness';

let nats: TestNats;
let auth: TestAuth;
let databaseUrl: string;
let center: ServiceCenterUnderTest | undefined;

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  databaseUrl = await createTestDatabase('service_center_bootstrap');
});

afterAll(async () => {
  await center?.stop();
  await nats?.stop();
});

/** (Re)starts the service center on the same database with this OPERATOR_BOOTSTRAP_KEY. */
async function startWith(bootstrapKey: string): Promise<ServiceCenterUnderTest> {
  await center?.stop();
  center = undefined;
  center = await startServiceCenter(databaseUrl, nats.url, auth, {
    OPERATOR_BOOTSTRAP_KEY: bootstrapKey,
  });
  return center;
}

async function exchange(running: ServiceCenterUnderTest, apiKey: string) {
  return running.clientsAs().tokens.api.issueToken({ apiKey });
}

describe('bootstrap operator', () => {
  it('revokes the previous bootstrap key when OPERATOR_BOOTSTRAP_KEY changes, and only then', async () => {
    const first = generateApiKey().key;
    let running = await startWith(first);
    const operatorId = (await exchange(running, first)).participantId;

    // The operator's secret is replaced (say it leaked): the old key stops working at once.
    const second = generateApiKey().key;
    running = await startWith(second);
    const refused = await expectGrpcError(exchange(running, first), GrpcStatus.UNAUTHENTICATED);
    expect(refused.status?.errorInfo?.reason).toBe('API_KEY_INVALID');
    const token = await exchange(running, second);
    expect(token.participantId).toBe(operatorId);

    // The operator rotates its key itself; a restart with the configuration unchanged keeps it.
    const operator = running.clientsAs(() => token.accessToken);
    const { apiKeys } = await operator.apiKeys.api.listApiKeys({
      participantId: operatorId,
      pageSize: 0,
      pageToken: '',
    });
    const current = apiKeys.find((k) => k.state === ApiKeyState.API_KEY_STATE_ACTIVE)!;
    const rotated = await operator.apiKeys.api.rotateApiKey({
      requestId: randomUUID(),
      apiKeyId: current.id,
    });
    const third = rotated.issuedApiKey!.apiKeySecret;
    running = await startWith(second);
    expect((await exchange(running, third)).participantId).toBe(operatorId);
    await expectGrpcError(exchange(running, second), GrpcStatus.UNAUTHENTICATED);
    const after = await running
      .clientsAs(async () => (await exchange(running, third)).accessToken)
      .apiKeys.api.listApiKeys({ participantId: operatorId, pageSize: 0, pageToken: '' });
    expect(after.apiKeys.filter((k) => k.state === ApiKeyState.API_KEY_STATE_ACTIVE)).toEqual([
      expect.objectContaining({ prefix: third.slice(4, 12) }),
    ]);
  });

  it('refuses to start with another key-encryption key than the one that sealed its signing key', async () => {
    await startWith(generateApiKey().key);
    await center?.stop();
    center = undefined;
    await expect(
      startServiceCenter(databaseUrl, nats.url, auth, {
        SIGNING_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      }),
    ).rejects.toThrow(/SIGNING_KEY_ENCRYPTION_KEY does not open the signing key/);
  });
});
