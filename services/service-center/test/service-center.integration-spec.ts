import { randomUUID } from 'node:crypto';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { TokenVerifier } from '@cinode/auth';
import { fromTimestamp, isGrpcError } from '@cinode/grpc';
import { decodeEnvelope, type EventEnvelope } from '@cinode/events';
import {
  ApiKeyState,
  ParticipantKind,
  ParticipantState,
  QualificationState,
  UserCategory,
  type CreateParticipantRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  createTestAuth,
  createTestDatabase,
  eventually,
  expectGrpcError,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import type { Clients, ServiceCenterUnderTest } from './service-center-harness';
import { QualificationsService } from '../src/qualifications/qualifications.service';
import { startServiceCenter } from './service-center-harness';

let auth: TestAuth;
let center: ServiceCenterUnderTest;
let operator: Clients;
let anonymous: Clients;
let nc: NatsConnection;
const FAILED_ATTEMPT_LIMIT = 5;
const JWKS_CACHE_SECONDS = 1;

let natsServer: TestNats;
let databaseUrl: string;

beforeAll(async () => {
  natsServer = await startTestNats();
  auth = await createTestAuth();
  databaseUrl = await createTestDatabase('service_center');
  center = await startServiceCenter(databaseUrl, natsServer.url, auth, {
    TOKEN_FAILED_ATTEMPT_LIMIT: String(FAILED_ATTEMPT_LIMIT),
    TOKEN_FAILED_ADDRESS_LIMIT: '1000',
    // A rotated key is published twice this long before it signs.
    JWKS_CACHE_SECONDS: String(JWKS_CACHE_SECONDS),
    // The tests stand in for a load balancer: their X-Forwarded-For names the caller.
    TOKEN_TRUSTED_PROXIES: '127.0.0.1,::1',
  });
  operator = center.clientsAs(() => auth.token(['operator'], 'op-alice'));
  anonymous = center.clientsAs();
  nc = await connect({ servers: natsServer.url });
});

afterAll(async () => {
  await nc?.close();
  await center?.stop();
  await natsServer?.stop();
});

function organisation(
  kind: ParticipantKind,
  overrides: Partial<CreateParticipantRequest> = {},
): CreateParticipantRequest {
  return {
    requestId: randomUUID(),
    kind,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name: `Example Compute ${randomUUID().slice(0, 8)}`,
    organization: {
      creditCode: '91440300708461136T',
      address: 'Nanshan District, Shenzhen',
      contactPerson: {
        name: 'Li Lei',
        title: 'Manager',
        mobile: '13800138000',
        email: 'li.lei@example.cn',
      },
      responsiblePerson: {
        name: 'Han Meimei',
        title: 'CEO',
        mobile: '13900139000',
        email: 'han@example.cn',
      },
    },
    individual: undefined,
    ...overrides,
  };
}

/** Registers and certifies a participant; returns its id and first API key. */
async function certified(
  kind: ParticipantKind,
): Promise<{ id: string; key: string; keyId: string }> {
  const { participant } = await anonymous.participants.api.createParticipant(organisation(kind));
  const id = participant!.id;
  await operator.certification.api.startReview({ participantId: id, reason: 'documents received' });
  const certifiedResponse = await operator.certification.api.certifyParticipant({
    participantId: id,
    reason: 'documents verified',
    requestId: randomUUID(),
  });
  return {
    id,
    key: certifiedResponse.issuedApiKey!.apiKeySecret,
    keyId: certifiedResponse.issuedApiKey!.apiKey!.id,
  };
}

async function verifierFromJwks(): Promise<TokenVerifier> {
  const { keys } = await anonymous.tokens.api.getJwks({});
  return new TokenVerifier(
    { keys: keys.map((k) => ({ ...k })) },
    { issuer: 'cinode', audience: 'cinode' },
  );
}

/** Waits (bounded) for an event on the PARTICIPANT stream matching the predicate. */
async function awaitEvent(
  subject: string,
  matches: (e: EventEnvelope) => boolean,
  timeoutMs = 10_000,
): Promise<EventEnvelope> {
  const js = nc.jetstream();
  const consumer = await js.consumers.get('PARTICIPANT', { filterSubjects: subject });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const messages = await consumer.fetch({ max_messages: 100, expires: 1_000 });
    for await (const message of messages) {
      const envelope = decodeEnvelope(message.data);
      if (matches(envelope)) return envelope;
    }
  }
  throw new Error(`no ${subject} event matched within ${timeoutMs} ms`);
}

/** Metadata a proxy in front of the service center would add. */
function forwardedFor(address: string): Metadata {
  const metadata = new Metadata();
  metadata.set('x-forwarded-for', address);
  return metadata;
}

/** The gRPC status code a call ended with (OK when it succeeded). */
async function statusCodeOf(call: Promise<unknown>): Promise<GrpcStatus> {
  try {
    await call;
    return GrpcStatus.OK;
  } catch (error) {
    if (isGrpcError(error)) return error.code;
    throw error;
  }
}

const about = (id: string) => (e: EventEnvelope) =>
  (e.data as { participantId?: string }).participantId === id;

describe('service center: registration and certification', () => {
  it('registers, reviews, certifies, issues a key, and exchanges it for a token that verifies with the JWKS', async () => {
    const { participant } = await anonymous.participants.api.createParticipant(
      organisation(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER),
    );
    expect(participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_SUBMITTED);
    const id = participant!.id;
    await operator.certification.api.startReview({
      participantId: id,
      reason: 'documents received',
    });
    const response = await operator.certification.api.certifyParticipant({
      participantId: id,
      reason: 'verified',
      requestId: '',
    });
    expect(response.participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_CERTIFIED);
    const secret = response.issuedApiKey!.apiKeySecret;
    expect(secret).toMatch(/^cin_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/);
    expect(secret.slice(4, 12)).toBe(response.issuedApiKey!.apiKey!.prefix);

    const issued = await anonymous.tokens.api.issueToken({ apiKey: secret });
    expect(issued.participantId).toBe(id);
    expect(issued.roles).toEqual(['provider']);
    const caller = await (await verifierFromJwks()).verify(issued.accessToken);
    expect(caller).toMatchObject({ subject: id, tenant: id, roles: ['provider'] });

    // The token works against the service itself: the provider reads its own record.
    const self = center.clientsAs(() => issued.accessToken);
    expect(
      (await self.participants.api.getParticipant({ participantId: id })).participant?.name,
    ).toBe(participant?.name);

    const { events } = await operator.certification.api.listCertificationEvents({
      participantId: id,
      pageSize: 0,
      pageToken: '',
    });
    expect(events.map((e) => [e.fromState, e.toState, e.actor])).toEqual([
      [
        ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
        ParticipantState.PARTICIPANT_STATE_SUBMITTED,
        'anonymous',
      ],
      [
        ParticipantState.PARTICIPANT_STATE_SUBMITTED,
        ParticipantState.PARTICIPANT_STATE_UNDER_REVIEW,
        'op-alice',
      ],
      [
        ParticipantState.PARTICIPANT_STATE_UNDER_REVIEW,
        ParticipantState.PARTICIPANT_STATE_CERTIFIED,
        'op-alice',
      ],
    ]);
    expect(events[2].reason).toBe('verified');

    const certifiedEvent = await awaitEvent('cinode.participant.participant.certified', about(id));
    // What consumers need, without calling back: the certified record's name and credit code, and
    // the participant's version (registered 1, review started 2, certified 3) to order by.
    expect(certifiedEvent.data).toEqual({
      participantId: id,
      version: 3,
      kind: 'COMPUTE_PROVIDER',
      state: 'CERTIFIED',
      previousState: 'UNDER_REVIEW',
      legalName: participant!.name,
      creditCode: participant!.organization?.creditCode,
      reason: 'verified',
      actor: 'op-alice',
    });
    expect(
      (await awaitEvent('cinode.participant.participant.review-started', about(id))).data,
    ).toMatchObject({ version: 2, state: 'UNDER_REVIEW' });
    await awaitEvent('cinode.participant.participant.registered', about(id));
    await awaitEvent('cinode.participant.key.issued', about(id));
  });

  it('creates one participant for the same request_id twice', async () => {
    const request = organisation(ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER);
    const [a, b] = await Promise.all([
      anonymous.participants.api.createParticipant(request),
      anonymous.participants.api.createParticipant(request),
    ]);
    expect(a.participant?.id).toBe(b.participant?.id);
    const { participants } = await operator.participants.api.listParticipants({
      pageSize: 0,
      pageToken: '',
      kind: ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER,
      state: ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
      nameContains: request.name,
    });
    expect(participants).toHaveLength(1);

    // Anonymous callers cannot be told apart: another registration under the same request id is
    // its own (nobody can squat request ids, nor learn one is in use), and is answered as such.
    const other = organisation(ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER);
    const { participant } = await anonymous.participants.api.createParticipant({
      ...other,
      requestId: request.requestId,
    });
    expect(participant?.id).not.toBe(a.participant?.id);
    expect(participant?.name).toBe(other.name);
  });

  it('certifies once for a retried request id: the retry gets the same key, without its secret', async () => {
    const register = async () =>
      (
        await anonymous.participants.api.createParticipant(
          organisation(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER),
        )
      ).participant!.id;
    const id = await register();
    await operator.certification.api.startReview({ participantId: id, reason: 'received' });
    const request = { participantId: id, reason: 'verified', requestId: randomUUID() };
    const first = await operator.certification.api.certifyParticipant(request);
    const retry = await operator.certification.api.certifyParticipant(request);
    expect(retry.participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_CERTIFIED);
    expect(retry.issuedApiKey?.apiKey?.id).toBe(first.issuedApiKey?.apiKey?.id);
    expect(first.issuedApiKey?.apiKeySecret).toMatch(/^cin_/);
    expect(retry.issuedApiKey?.apiKeySecret).toBe('');
    const { apiKeys } = await operator.apiKeys.api.listApiKeys({
      participantId: id,
      pageSize: 0,
      pageToken: '',
    });
    expect(apiKeys).toHaveLength(1);
    // The same id for another participant is another request, refused.
    const other = await register();
    await operator.certification.api.startReview({ participantId: other, reason: 'received' });
    const reused = await expectGrpcError(
      operator.certification.api.certifyParticipant({ ...request, participantId: other }),
      GrpcStatus.ALREADY_EXISTS,
    );
    expect(reused.status?.errorInfo?.reason).toBe('REQUEST_ID_REUSED');
  });

  it('rejects a bad credit code as INVALID_ARGUMENT naming the field', async () => {
    const request = organisation(ParticipantKind.PARTICIPANT_KIND_RESELLER);
    request.organization!.creditCode = '91440300708461136A';
    const error = await expectGrpcError(
      anonymous.participants.api.createParticipant(request),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations).toEqual([
      { field: 'organization.credit_code', description: 'has a wrong check character' },
    ]);
  });

  it('validates an individual user by identity number', async () => {
    const request: CreateParticipantRequest = {
      ...organisation(ParticipantKind.PARTICIPANT_KIND_USER),
      userCategory: UserCategory.USER_CATEGORY_INDIVIDUAL,
      organization: undefined,
      individual: {
        identityNumber: '11010519491231002x',
        mobile: '13700137000',
        email: 'zhang@example.cn',
      },
    };
    const { participant } = await anonymous.participants.api.createParticipant(request);
    expect(participant?.individual?.identityNumber).toBe('11010519491231002X');
    const bad = {
      ...request,
      requestId: randomUUID(),
      individual: { ...request.individual!, identityNumber: '110105194912310021' },
    };
    const error = await expectGrpcError(
      anonymous.participants.api.createParticipant(bad),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field)).toEqual([
      'individual.identity_number',
    ]);
  });

  it('denies a provider calling an operator RPC', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    const token = (await anonymous.tokens.api.issueToken({ apiKey: provider.key })).accessToken;
    const asProvider = center.clientsAs(() => token);
    const error = await expectGrpcError(
      asProvider.certification.api.suspendParticipant({
        participantId: provider.id,
        reason: 'self-suspend',
      }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(error.status?.errorInfo?.reason).toBe('ROLE_NOT_ALLOWED');
  });

  it("denies a reseller reading another participant's record", async () => {
    const reseller = await certified(ParticipantKind.PARTICIPANT_KIND_RESELLER);
    const other = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    const token = (await anonymous.tokens.api.issueToken({ apiKey: reseller.key })).accessToken;
    const asReseller = center.clientsAs(() => token);
    const error = await expectGrpcError(
      asReseller.participants.api.getParticipant({ participantId: other.id }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(error.status?.errorInfo?.reason).toBe('NOT_OWN_RECORD');
    await expectGrpcError(
      asReseller.apiKeys.api.listApiKeys({ participantId: other.id, pageSize: 0, pageToken: '' }),
      GrpcStatus.PERMISSION_DENIED,
    );
    const own = await asReseller.participants.api.listParticipants({
      pageSize: 0,
      pageToken: '',
      kind: ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED,
      state: ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
      nameContains: '',
    });
    expect(own.participants.map((p) => p.id)).toEqual([reseller.id]);
  });

  it('refuses an illegal transition with FAILED_PRECONDITION naming the current state', async () => {
    const { participant } = await anonymous.participants.api.createParticipant(
      organisation(ParticipantKind.PARTICIPANT_KIND_APPLICATION_PROVIDER),
    );
    const error = await expectGrpcError(
      operator.certification.api.certifyParticipant({
        participantId: participant!.id,
        reason: 'skip review',
        requestId: randomUUID(),
      }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(error.status?.errorInfo?.reason).toBe('INVALID_TRANSITION');
    expect(error.status?.errorInfo?.metadata.current_state).toBe('PARTICIPANT_STATE_SUBMITTED');
  });

  it('updates only the fields named in the update mask, and rejects unknown paths', async () => {
    const { participant } = await anonymous.participants.api.createParticipant(
      organisation(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER),
    );
    const original = participant!;
    const renamed = `${original.name} (renamed)`;
    const updated = await operator.participants.api.updateParticipant({
      participant: {
        ...original,
        name: renamed,
        organization: { ...original.organization!, address: 'must not change' },
      },
      updateMask: ['name'],
    });
    expect(updated.participant?.name).toBe(renamed);
    const fetched = await operator.participants.api.getParticipant({ participantId: original.id });
    expect(fetched.participant?.name).toBe(renamed);
    expect(fetched.participant?.organization?.address).toBe(original.organization?.address);

    const error = await expectGrpcError(
      operator.participants.api.updateParticipant({ participant: original, updateMask: ['state'] }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field)).toContain('update_mask');
  });

  it('lets a rejected participant resubmit, back to SUBMITTED', async () => {
    const { participant } = await anonymous.participants.api.createParticipant(
      organisation(ParticipantKind.PARTICIPANT_KIND_RESELLER),
    );
    const id = participant!.id;
    await operator.certification.api.startReview({ participantId: id, reason: 'review' });
    await operator.certification.api.rejectParticipant({
      participantId: id,
      reason: 'address missing',
    });
    const again = await operator.participants.api.resubmitParticipant({
      participantId: id,
      name: participant!.name,
      userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
      organization: { ...participant!.organization!, address: 'No. 1 Keji Road, Shenzhen' },
      individual: undefined,
      reason: 'address added',
    });
    expect(again.participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_SUBMITTED);
    expect(again.participant?.organization?.address).toBe('No. 1 Keji Road, Shenzhen');
    await awaitEvent('cinode.participant.participant.rejected', about(id));
  });
});

describe('service center: tokens and keys', () => {
  it('stops new tokens at once when a participant is suspended, and again after reinstatement works', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    await anonymous.tokens.api.issueToken({ apiKey: provider.key });
    await operator.certification.api.suspendParticipant({
      participantId: provider.id,
      reason: 'unpaid fees',
    });
    const error = await expectGrpcError(
      anonymous.tokens.api.issueToken({ apiKey: provider.key }),
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(error.status?.errorInfo?.reason).toBe('PARTICIPANT_NOT_CERTIFIED');
    const suspended = await awaitEvent(
      'cinode.participant.participant.suspended',
      about(provider.id),
    );
    expect(suspended.data).toMatchObject({
      state: 'SUSPENDED',
      previousState: 'CERTIFIED',
      reason: 'unpaid fees',
    });
    await operator.certification.api.reinstateParticipant({
      participantId: provider.id,
      reason: 'paid',
    });
    await anonymous.tokens.api.issueToken({ apiKey: provider.key });
    await awaitEvent('cinode.participant.participant.reinstated', about(provider.id));
  });

  it('leaves a revoked participant no active key when a rotation of its key races the revocation', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    /** Backends of this database waiting for a lock, other than the test's own. */
    const waiting = async (count: number) =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
          )
        ).rows[0].n,
      ) >= count
        ? true
        : undefined;
    const holder = new Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      // The key row is held, so the interleaving is the one that matters: the rotation has read
      // what it needs and waits for the key while the revocation comes in behind it.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM api_key WHERE id = $1 FOR UPDATE', [provider.keyId]);
      const rotation = operator.apiKeys.api
        .rotateApiKey({ requestId: randomUUID(), apiKeyId: provider.keyId })
        .then(
          () => 'rotated',
          (error: unknown) => (isGrpcError(error) ? GrpcStatus[error.code] : String(error)),
        );
      await eventually('the rotation to wait for the key', () => Promise.resolve(waiting(1)));
      const revocation = operator.certification.api.revokeParticipant({
        participantId: provider.id,
        reason: 'licence withdrawn',
      });
      await eventually('the revocation to wait too', () => Promise.resolve(waiting(2)));
      await holder.query('ROLLBACK');
      await revocation;
      // The rotation went first and issued a key; the revocation, behind it, revoked that one too.
      expect(await rotation).toBe('rotated');
      const { apiKeys } = await operator.apiKeys.api.listApiKeys({
        participantId: provider.id,
        pageSize: 0,
        pageToken: '',
      });
      expect(apiKeys).toHaveLength(2);
      expect(apiKeys.filter((k) => k.state === ApiKeyState.API_KEY_STATE_ACTIVE)).toEqual([]);
    } finally {
      await holder.end();
      await db.end();
    }
  });

  it('revocation revokes the keys and is final', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER);
    await operator.certification.api.revokeParticipant({
      participantId: provider.id,
      reason: 'fraud',
    });
    await expectGrpcError(
      anonymous.tokens.api.issueToken({ apiKey: provider.key }),
      GrpcStatus.UNAUTHENTICATED,
    );
    const error = await expectGrpcError(
      operator.certification.api.reinstateParticipant({
        participantId: provider.id,
        reason: 'undo',
      }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(error.status?.errorInfo?.metadata.current_state).toBe('PARTICIPANT_STATE_REVOKED');
    await awaitEvent('cinode.participant.key.revoked', about(provider.id));
    await awaitEvent('cinode.participant.participant.revoked', about(provider.id));
  });

  it('publishes a rotated-in signing key before it signs, while tokens signed by the old one keep verifying', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    const headerKid = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;
    const issue = async () =>
      (await anonymous.tokens.api.issueToken({ apiKey: provider.key })).accessToken;
    const before = await issue();
    const requestId = randomUUID();
    const rotatedAt = Date.now();
    const rotated = await operator.tokens.api.rotateSigningKey({ requestId });
    const retried = await operator.tokens.api.rotateSigningKey({ requestId });
    expect(retried).toEqual(rotated);
    expect(rotated.publishedKids).toContain(headerKid(before));
    const signsFrom = fromTimestamp(rotated.signsFrom!).getTime();
    expect(signsFrom - rotatedAt).toBeGreaterThanOrEqual(2 * JWKS_CACHE_SECONDS * 1000 - 1_000);

    // Published at once, in the JWKS every verifier fetches...
    const { keys } = await anonymous.tokens.api.getJwks({});
    expect(keys.map((k) => k.kid)).toEqual(
      expect.arrayContaining([rotated.activeKid, headerKid(before)]),
    );
    // ...but tokens are still signed with the old key until then.
    const meanwhile = await issue();
    if (Date.now() < signsFrom) expect(headerKid(meanwhile)).toBe(headerKid(before));

    const after = await eventually('a token signed with the new key', async () => {
      const token = await issue();
      return headerKid(token) === rotated.activeKid ? token : undefined;
    });
    expect(Date.now()).toBeGreaterThanOrEqual(signsFrom);
    const verifier = await verifierFromJwks();
    expect((await verifier.verify(before)).subject).toBe(provider.id);
    expect((await verifier.verify(after)).subject).toBe(provider.id);
    // The service itself accepts both.
    for (const token of [before, after]) {
      const as = center.clientsAs(() => token);
      await as.participants.api.getParticipant({ participantId: provider.id });
    }
  });

  it('rate-limits failed attempts per key prefix with RESOURCE_EXHAUSTED and a retry delay', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_APPLICATION_PROVIDER);
    const wrong = `${provider.key.slice(0, 13)}${'A'.repeat(32)}`;
    for (let i = 0; i < FAILED_ATTEMPT_LIMIT; i += 1) {
      await expectGrpcError(
        anonymous.tokens.api.issueToken({ apiKey: wrong }),
        GrpcStatus.UNAUTHENTICATED,
      );
    }
    const error = await expectGrpcError(
      anonymous.tokens.api.issueToken({ apiKey: provider.key }),
      GrpcStatus.RESOURCE_EXHAUSTED,
    );
    expect(error.status?.errorInfo?.reason).toBe('TOO_MANY_FAILED_ATTEMPTS');
    expect(error.status?.retryDelaySeconds).toBeGreaterThan(0);
  });

  it('keeps a genuine key working while another address hammers its prefix', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    const wrong = `${provider.key.slice(0, 13)}${'B'.repeat(32)}`;
    const attacker = { metadata: forwardedFor('203.0.113.7') };
    const holder = { metadata: forwardedFor('198.51.100.9') };
    for (let i = 0; i < FAILED_ATTEMPT_LIMIT; i += 1)
      await expectGrpcError(
        anonymous.tokens.api.issueToken({ apiKey: wrong }, attacker),
        GrpcStatus.UNAUTHENTICATED,
      );
    await expectGrpcError(
      anonymous.tokens.api.issueToken({ apiKey: wrong }, attacker),
      GrpcStatus.RESOURCE_EXHAUSTED,
    );
    // The prefix is public; knowing it locks out only the address that hammers it.
    for (let i = 0; i < 3; i += 1) {
      const issued = await anonymous.tokens.api.issueToken({ apiKey: provider.key }, holder);
      expect(issued.participantId).toBe(provider.id);
    }
  });

  it('lets exactly the limit of failed attempts through when they arrive all at once', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_RESELLER);
    const wrong = `${provider.key.slice(0, 13)}${'C'.repeat(32)}`;
    const from = { metadata: forwardedFor('203.0.113.99') };
    const codes = await Promise.all(
      Array.from({ length: 4 * FAILED_ATTEMPT_LIMIT }, () =>
        statusCodeOf(anonymous.tokens.api.issueToken({ apiKey: wrong }, from)),
      ),
    );
    expect(codes.filter((c) => c === GrpcStatus.UNAUTHENTICATED)).toHaveLength(
      FAILED_ATTEMPT_LIMIT,
    );
    expect(codes.filter((c) => c === GrpcStatus.RESOURCE_EXHAUSTED)).toHaveLength(
      3 * FAILED_ATTEMPT_LIMIT,
    );
  });

  it('rotates an API key: the new one works, the old one stops', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    const token = (await anonymous.tokens.api.issueToken({ apiKey: provider.key })).accessToken;
    const self = center.clientsAs(() => token);
    const rotated = await self.apiKeys.api.rotateApiKey({
      requestId: randomUUID(),
      apiKeyId: provider.keyId,
    });
    const fresh = rotated.issuedApiKey!.apiKeySecret;
    await anonymous.tokens.api.issueToken({ apiKey: fresh });
    await expectGrpcError(
      anonymous.tokens.api.issueToken({ apiKey: provider.key }),
      GrpcStatus.UNAUTHENTICATED,
    );
    const { apiKeys } = await self.apiKeys.api.listApiKeys({
      participantId: provider.id,
      pageSize: 0,
      pageToken: '',
    });
    expect(apiKeys.map((k) => k.state).sort()).toEqual([1, 2]);
  });
});

describe('service center: resale qualifications', () => {
  it('grants a validity period, honours it at read time, and emits granted', async () => {
    const reseller = await certified(ParticipantKind.PARTICIPANT_KIND_RESELLER);
    const now = Date.now();
    const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: 0 });
    const granted = await operator.qualifications.api.grantResaleQualification({
      requestId: randomUUID(),
      participantId: reseller.id,
      validFrom: seconds(now - 60_000),
      validUntil: seconds(now + 3_000),
      reason: 'licence 2026-001',
    });
    expect(granted.qualification?.state).toBe(QualificationState.QUALIFICATION_STATE_VALID);
    expect(
      (await operator.qualifications.api.checkResaleQualification({ participantId: reseller.id }))
        .allowed,
    ).toBe(true);
    await awaitEvent('cinode.participant.qualification.granted', about(reseller.id));
    // No job runs in this harness: the denial comes from the read itself once valid_until passes.
    const deadline = Date.now() + 10_000;
    let check = await operator.qualifications.api.checkResaleQualification({
      participantId: reseller.id,
    });
    while (check.allowed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      check = await operator.qualifications.api.checkResaleQualification({
        participantId: reseller.id,
      });
    }
    expect(check).toMatchObject({ allowed: false, denialReason: 'NO_VALID_QUALIFICATION' });
    expect(Date.now()).toBeGreaterThanOrEqual(now + 3_000 - 1_000);
  });

  it('records each expiry once and emits qualification.expired, however often the sweep runs', async () => {
    const reseller = await certified(ParticipantKind.PARTICIPANT_KIND_RESELLER);
    const now = Date.now();
    const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: 0 });
    await operator.qualifications.api.grantResaleQualification({
      requestId: randomUUID(),
      participantId: reseller.id,
      validFrom: seconds(now - 60_000),
      validUntil: seconds(now + 60_000),
      reason: 'licence 2026-002',
    });
    const sweeper = center.service.app.get(QualificationsService);
    const later = new Date(now + 120_000);
    const swept = await Promise.all([sweeper.sweepExpired(later), sweeper.sweepExpired(later)]);
    expect(swept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    await awaitEvent('cinode.participant.qualification.expired', about(reseller.id));
    expect(await sweeper.sweepExpired(later)).toBe(0);
  });

  it('refuses a qualification for a participant that is not a reseller', async () => {
    const provider = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
    const error = await expectGrpcError(
      operator.qualifications.api.grantResaleQualification({
        requestId: randomUUID(),
        participantId: provider.id,
        validFrom: { seconds: Math.floor(Date.now() / 1000), nanos: 0 },
        validUntil: { seconds: Math.floor(Date.now() / 1000) + 3600, nanos: 0 },
        reason: 'x',
      }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(error.status?.errorInfo?.reason).toBe('NOT_A_RESELLER');
  });
});
