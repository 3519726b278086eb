import type { TokenClaims } from '@cinode/auth';
import { ResourceExhaustedError, UnauthenticatedError } from '@cinode/common';
import {
  ApiKeyState,
  ParticipantKind,
  ParticipantState,
  UserCategory,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { generateApiKey } from '@cinode/common';
import { FakeUnitOfWork } from '@cinode/testing';
import type { ApiKeyEntity } from '../api-keys/api-key.entity';
import type { ApiKeysRepository } from '../api-keys/api-keys.repository';
import type { ServiceCenterConfig } from '../config';
import type { ParticipantEntity } from '../participants/participant.entity';
import type { ParticipantsRepository } from '../participants/participants.repository';
import type { SigningKeysService } from './signing-keys.service';
import type {
  AttemptCount,
  AttemptLimit,
  AttemptScope,
  Reservation,
  TokenAttemptsRepository,
} from './token-attempts.repository';
import { ErrorReason } from '../errors';
import { TokenExchangeService } from './token-exchange.service';

const S = ParticipantState;
const PARTICIPANT = '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';
const ADDRESS = '10.0.0.1';
const TTL = 300;
const WINDOW = 300;
const PREFIX_LIMIT = 3;
const ADDRESS_LIMIT = 5;

class FakeApiKeys {
  keys: ApiKeyEntity[] = [];
  touched: string[] = [];
  findByPrefix(prefix: string): Promise<ApiKeyEntity | undefined> {
    return Promise.resolve(this.keys.find((k) => k.prefix === prefix));
  }
  touchLastUsed(_tx: unknown, id: string): Promise<void> {
    this.touched.push(id);
    return Promise.resolve();
  }
}

class FakeParticipants {
  participants = new Map<string, ParticipantEntity>();
  findById(id: string): Promise<ParticipantEntity | undefined> {
    return Promise.resolve(this.participants.get(id));
  }
}

class FakeAttempts {
  failures: { id: string; scope: AttemptScope; subject: string; at: Date }[] = [];
  private nextId = 1;
  count(scope: AttemptScope, subject: string, since: Date): AttemptCount {
    const inWindow = this.failures.filter(
      (f) => f.scope === scope && f.subject === subject && f.at.getTime() > since.getTime(),
    );
    const oldest = inWindow.map((f) => f.at).sort((a, b) => a.getTime() - b.getTime())[0];
    return { scope, subject, failures: inWindow.length, oldest };
  }
  reserve(limits: AttemptLimit[], since: Date, at: Date): Promise<Reservation> {
    const ordered = [...limits].sort((a, b) =>
      `${a.scope}:${a.subject}`.localeCompare(`${b.scope}:${b.subject}`),
    );
    for (const l of ordered) {
      const count = this.count(l.scope, l.subject, since);
      if (count.failures >= l.limit) return Promise.resolve({ refused: count });
    }
    return Promise.resolve({ reserved: this.record(ordered, at) });
  }
  release(ids: string[]): Promise<void> {
    this.failures = this.failures.filter((f) => !ids.includes(f.id));
    return Promise.resolve();
  }
  record(attempts: { scope: AttemptScope; subject: string }[], at: Date): string[] {
    const rows = attempts.map((a) => ({ ...a, id: String(this.nextId++), at }));
    this.failures.push(...rows);
    return rows.map((r) => r.id);
  }
  deleteOlderThan(before: Date): Promise<void> {
    this.failures = this.failures.filter((f) => f.at.getTime() > before.getTime());
    return Promise.resolve();
  }
  recorded(): string[] {
    return this.failures.map((f) => `${f.scope}:${f.subject}`);
  }
}
class FakeSigningKeys {
  issued: TokenClaims[] = [];
  activeIssuer() {
    return Promise.resolve({
      issue: (claims: TokenClaims) => {
        this.issued.push(claims);
        return Promise.resolve(`token-for-${claims.subject}`);
      },
    });
  }
}

const config = {
  TOKEN_TTL_SECONDS: TTL,
  TOKEN_FAILED_ATTEMPT_LIMIT: PREFIX_LIMIT,
  TOKEN_FAILED_ADDRESS_LIMIT: ADDRESS_LIMIT,
  TOKEN_FAILED_ATTEMPT_WINDOW_SECONDS: WINDOW,
};

function subject(
  state: ParticipantState = S.PARTICIPANT_STATE_CERTIFIED,
  keyState: ApiKeyState = ApiKeyState.API_KEY_STATE_ACTIVE,
) {
  const keys = new FakeApiKeys();
  const participants = new FakeParticipants();
  const attempts = new FakeAttempts();
  const signingKeys = new FakeSigningKeys();
  const generated = generateApiKey();
  keys.keys.push({
    id: 'key-1',
    participantId: PARTICIPANT,
    prefix: generated.prefix,
    secretHash: generated.hash,
    state: keyState,
    createdBy: 'op-1',
    createdAt: new Date(),
    lastUsedAt: null,
    revokedAt: null,
    revokeReason: null,
    version: 1,
  });
  participants.participants.set(PARTICIPANT, {
    id: PARTICIPANT,
    kind: ParticipantKind.PARTICIPANT_KIND_RESELLER,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name: 'Example',
    state,
    version: 1,
    organization: null,
    individual: null,
    createdBy: 'anonymous',
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  const service = new TokenExchangeService(
    new FakeUnitOfWork().asUnitOfWork,
    keys as unknown as ApiKeysRepository,
    participants as unknown as ParticipantsRepository,
    attempts as unknown as TokenAttemptsRepository,
    signingKeys as unknown as SigningKeysService,
    config as unknown as ServiceCenterConfig,
  );
  const prefix = generated.prefix;
  /** The genuine key with its last character changed: right prefix, wrong secret. */
  const wrongSecret = generated.key.slice(0, -1) + (generated.key.endsWith('a') ? 'b' : 'a');
  return { service, keys, attempts, signingKeys, key: generated.key, prefix, wrongSecret };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

function expectInvalidKey(error: unknown): void {
  expect(error).toBeInstanceOf(UnauthenticatedError);
  expect((error as UnauthenticatedError).reason).toBe(ErrorReason.API_KEY_INVALID);
}

describe(TokenExchangeService.name, () => {
  it("issues a token with the participant's roles for a genuine key and marks the key used", async () => {
    const { service, keys, attempts, signingKeys, key } = subject();
    const before = Date.now();
    const token = await service.issue(key, ADDRESS);
    expect(token).toMatchObject({
      accessToken: `token-for-${PARTICIPANT}`,
      roles: ['reseller'],
      participantId: PARTICIPANT,
    });
    expect(signingKeys.issued).toEqual([
      { subject: PARTICIPANT, roles: ['reseller'], tenant: PARTICIPANT, ttlSeconds: TTL },
    ]);
    expect(token.expiresAt.getTime()).toBeGreaterThan(before + (TTL - 1) * 1000);
    expect(token.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + TTL * 1000);
    expect(keys.touched).toEqual(['key-1']);
    expect(attempts.failures).toHaveLength(0);
  });

  it('refuses a revoked key like an unknown one and counts the failure', async () => {
    const { service, keys, attempts, signingKeys, key, prefix } = subject(
      S.PARTICIPANT_STATE_CERTIFIED,
      ApiKeyState.API_KEY_STATE_REVOKED,
    );
    expectInvalidKey(await failure(service.issue(key, ADDRESS)));
    expect(attempts.recorded()).toEqual([`address:${ADDRESS}`, `prefix:${prefix}@${ADDRESS}`]);
    expect(signingKeys.issued).toHaveLength(0);
    expect(keys.touched).toHaveLength(0);
  });

  it('refuses a wrong secret and an unknown prefix the same way, counting both scopes', async () => {
    const { service, attempts, prefix, wrongSecret } = subject();
    const unknown = generateApiKey();
    const wrong = await failure(service.issue(wrongSecret, ADDRESS));
    const missing = await failure(service.issue(unknown.key, ADDRESS));
    expectInvalidKey(wrong);
    expectInvalidKey(missing);
    expect((wrong as Error).message).toBe((missing as Error).message);
    expect(attempts.recorded()).toEqual([
      `address:${ADDRESS}`,
      `prefix:${prefix}@${ADDRESS}`,
      `address:${ADDRESS}`,
      `prefix:${unknown.prefix}@${ADDRESS}`,
    ]);
  });

  it('counts a malformed key against the address only', async () => {
    const { service, attempts } = subject();
    expectInvalidKey(await failure(service.issue('not-a-key', ADDRESS)));
    expect(attempts.recorded()).toEqual([`address:${ADDRESS}`]);
  });

  it.each([
    S.PARTICIPANT_STATE_SUBMITTED,
    S.PARTICIPANT_STATE_UNDER_REVIEW,
    S.PARTICIPANT_STATE_REJECTED,
    S.PARTICIPANT_STATE_SUSPENDED,
    S.PARTICIPANT_STATE_REVOKED,
  ])(
    'tells a participant in state %s with a genuine key that it is not certified, counting no failure',
    async (state) => {
      const { service, attempts, signingKeys, key } = subject(state);
      const error = await failure(service.issue(key, ADDRESS));
      expect(error).toBeInstanceOf(UnauthenticatedError);
      expect((error as UnauthenticatedError).reason).toBe(ErrorReason.PARTICIPANT_NOT_CERTIFIED);
      expect((error as UnauthenticatedError).metadata.current_state).toBe(ParticipantState[state]);
      expect(attempts.failures).toHaveLength(0);
      expect(signingKeys.issued).toHaveLength(0);
    },
  );

  it('refuses the key at its limit from the address hammering it, saying when to retry, while its holder elsewhere keeps working', async () => {
    const { service, attempts, signingKeys, key, prefix, wrongSecret } = subject();
    const ATTACKER = '203.0.113.7';
    for (let i = 0; i < PREFIX_LIMIT; i += 1)
      expectInvalidKey(await failure(service.issue(wrongSecret, ATTACKER)));
    const error = await failure(service.issue(key, ATTACKER));
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect((error as ResourceExhaustedError).reason).toBe(ErrorReason.TOO_MANY_FAILED_ATTEMPTS);
    expect((error as ResourceExhaustedError).metadata).toEqual({ scope: 'prefix' });
    const retryAfter = (error as ResourceExhaustedError).retryAfterSeconds ?? 0;
    expect(retryAfter).toBeGreaterThanOrEqual(WINDOW - 1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW);
    expect(signingKeys.issued).toHaveLength(0);
    // A refusal for the limit is not itself counted.
    expect(attempts.recorded().filter((r) => r === `prefix:${prefix}@${ATTACKER}`)).toHaveLength(
      PREFIX_LIMIT,
    );
    // The prefix is public (listings, events); knowing it locks nobody else out.
    await expect(service.issue(key, ADDRESS)).resolves.toMatchObject({
      participantId: PARTICIPANT,
    });
    expect(attempts.recorded().filter((r) => r.endsWith(`@${ADDRESS}`))).toHaveLength(0);
  });

  it('frees the prefix when its oldest failure leaves the window', async () => {
    const { service, attempts, key, prefix } = subject();
    const old = new Date(Date.now() - (WINDOW + 1) * 1000);
    attempts.record(
      Array.from({ length: PREFIX_LIMIT }, () => ({
        scope: 'prefix' as const,
        subject: `${prefix}@${ADDRESS}`,
      })),
      old,
    );
    await expect(service.issue(key, ADDRESS)).resolves.toMatchObject({
      participantId: PARTICIPANT,
    });
  });

  it('computes the wait from the oldest failure still in the window', async () => {
    const { service, attempts, key, prefix } = subject();
    attempts.record(
      Array.from({ length: PREFIX_LIMIT }, () => ({
        scope: 'prefix' as const,
        subject: `${prefix}@${ADDRESS}`,
      })),
      new Date(Date.now() - 100_000),
    );
    const error = await failure(service.issue(key, ADDRESS));
    const retryAfter = (error as ResourceExhaustedError).retryAfterSeconds ?? 0;
    expect(retryAfter).toBeGreaterThanOrEqual(WINDOW - 101);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW - 100);
  });

  it('limits an address across prefixes at its own, higher limit', async () => {
    const { service, key } = subject();
    for (let i = 0; i < ADDRESS_LIMIT; i += 1)
      expectInvalidKey(await failure(service.issue(generateApiKey().key, ADDRESS)));
    const error = await failure(service.issue(key, ADDRESS));
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect((error as ResourceExhaustedError).metadata).toEqual({ scope: 'address' });
    await expect(service.issue(key, '10.0.0.2')).resolves.toMatchObject({
      participantId: PARTICIPANT,
    });
  });

  it('prunes only failures no window can count any more', async () => {
    const { service, attempts } = subject();
    const now = new Date('2026-06-01T00:00:00Z');
    attempts.record([{ scope: 'address', subject: 'a' }], new Date(now.getTime() - WINDOW * 1000));
    attempts.record([{ scope: 'address', subject: 'b' }], new Date(now.getTime() - 1000));
    await service.pruneAttempts(now);
    expect(attempts.recorded()).toEqual(['address:b']);
  });
});
