import type { Caller } from '@cinode/auth';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  PageTokens,
} from '@cinode/common';
import { apiKeyMatches, generateApiKey, parseApiKey } from '@cinode/common';
import { IdempotencyErrorReason } from '@cinode/database';
import {
  ApiKeyState,
  ParticipantKind,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { asReal, fakeStore } from '../../test/fakes';
import { ErrorReason } from '../errors';
import type { ParticipantsRepository } from '../participants/participants.repository';
import { ApiKeyIssuer } from './api-key-issuer';
import type { ApiKeyEntity } from './api-key.entity';
import type { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

const ACTIVE = ApiKeyState.API_KEY_STATE_ACTIVE;
const REVOKED = ApiKeyState.API_KEY_STATE_REVOKED;

const OWNER = '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';
const STRANGER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const KEY_ID = '11111111-2222-4333-8444-555555555555';
const OTHER_KEY_ID = '22222222-3333-4444-8555-666666666666';
const MISSING_KEY_ID = '33333333-4444-4555-8666-777777777777';

function callerOf(tenant: string, ...roles: Caller['roles']): Caller {
  return { subject: tenant, roles, tenant, tokenId: 't', expiresAt: new Date() };
}
const owner = callerOf(OWNER, 'provider');
const stranger = callerOf(STRANGER, 'provider');
const operator = callerOf('op-1', 'operator');
const regulator = callerOf('reg-1', 'regulator');

function keyRow(id: string, participantId: string, createdAt: Date): ApiKeyEntity {
  const generated = generateApiKey();
  return {
    id,
    participantId,
    prefix: generated.prefix,
    secretHash: generated.hash,
    state: ACTIVE,
    createdBy: 'op-1',
    createdAt,
    lastUsedAt: null,
    revokedAt: null,
    revokeReason: null,
    version: 1,
  };
}

function subject(ownerState = ParticipantState.PARTICIPANT_STATE_CERTIFIED) {
  const store = fakeStore();
  for (const [id, state] of [
    [OWNER, ownerState],
    [STRANGER, ParticipantState.PARTICIPANT_STATE_CERTIFIED],
  ] as const) {
    store.participants.participants.set(id, {
      id,
      kind: ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
      userCategory: 0,
      name: `participant ${id}`,
      state,
      version: 1,
      organization: null,
      individual: null,
      createdBy: 'anonymous',
      createdAt: new Date(),
      updatedAt: new Date(),
    });
  }
  store.keys.keys.set(KEY_ID, keyRow(KEY_ID, OWNER, new Date('2026-01-01T00:00:00Z')));
  store.keys.keys.set(
    OTHER_KEY_ID,
    keyRow(OTHER_KEY_ID, STRANGER, new Date('2026-01-02T00:00:00Z')),
  );
  const keys = asReal<ApiKeysRepository>(store.keys);
  const listedFor: string[] = [];
  const list = keys.list.bind(keys);
  keys.list = (participantId, limit, after) => {
    listedFor.push(participantId);
    return list(participantId, limit, after);
  };
  const service = new ApiKeysService(
    store.uow.asUnitOfWork,
    keys,
    new ApiKeyIssuer(keys),
    asReal<ParticipantsRepository>(store.participants),
    PageTokens.ephemeral(),
  );
  /** What the tests look at: the keys table, the committed events, who was listed. */
  const repository = {
    get keys() {
      return store.keys.keys;
    },
    get events() {
      return store.events as { type: string; data: { reason: string; actor: string } }[];
    },
    listedFor,
  };
  return { repository, service };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe(ApiKeysService.name, () => {
  describe('list', () => {
    it("lists a participant's own keys", async () => {
      const { service } = subject();
      const { keys } = await service.list(OWNER, 0, '', owner);
      expect(keys.map((k) => k.id)).toEqual([KEY_ID]);
    });

    it('lets operators and regulators list any participant', async () => {
      const { service } = subject();
      for (const caller of [operator, regulator]) {
        const { keys } = await service.list(STRANGER, 0, '', caller);
        expect(keys.map((k) => k.id)).toEqual([OTHER_KEY_ID]);
      }
    });

    it("refuses listing another participant's keys before reading any", async () => {
      const { repository, service } = subject();
      const error = await failure(service.list(STRANGER, 0, '', owner));
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect((error as PermissionDeniedError).reason).toBe(ErrorReason.NOT_OWN_RECORD);
      expect(repository.listedFor).toEqual([]);
    });

    it('refuses a malformed participant id', async () => {
      const { service } = subject();
      await expect(service.list('not-a-uuid', 0, '', operator)).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });

  describe('rotate', () => {
    it('issues a working replacement, shows its secret once and revokes the old key', async () => {
      const { repository, service } = subject();
      const { entity, key } = await service.rotate('rot-1', KEY_ID, owner);
      expect(parseApiKey(key)?.prefix).toBe(entity.prefix);
      expect(apiKeyMatches(key, entity.secretHash)).toBe(true);
      expect(entity.secretHash).not.toContain(key);
      expect(repository.keys.get(entity.id)).toMatchObject({
        participantId: OWNER,
        state: ACTIVE,
        version: 1,
        createdBy: OWNER,
      });
      expect(repository.keys.get(KEY_ID)).toMatchObject({
        state: REVOKED,
        version: 2,
        revokeReason: `rotated to ${entity.prefix}`,
      });
      expect(repository.keys.get(KEY_ID)?.revokedAt).toBeInstanceOf(Date);
      expect(repository.events.map((e) => [e.type, e.data.reason])).toEqual([
        ['cinode.participant.key.issued', 'rotation'],
        ['cinode.participant.key.revoked', `rotated to ${entity.prefix}`],
      ]);
    });

    it('answers a retried rotation with the same key, without its secret and without rotating again', async () => {
      const { repository, service } = subject();
      const first = await service.rotate('rot-1', KEY_ID, owner);
      const retry = await service.rotate('rot-1', KEY_ID, owner);
      expect(retry.entity.id).toBe(first.entity.id);
      expect(retry.key).toBe('');
      expect(repository.keys.size).toBe(3);
      expect(repository.events).toHaveLength(2);
    });

    it('refuses rotating a revoked key with a new request id', async () => {
      const { repository, service } = subject();
      await service.rotate('rot-1', KEY_ID, owner);
      const error = await failure(service.rotate('rot-2', KEY_ID, owner));
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect((error as FailedPreconditionError).reason).toBe(ErrorReason.API_KEY_REVOKED);
      expect(repository.keys.size).toBe(3);
    });

    it('refuses a request id the caller already used for another rotation as ALREADY_EXISTS', async () => {
      const { repository, service } = subject();
      await service.rotate('rot-shared', OTHER_KEY_ID, operator);
      const error = await failure(service.rotate('rot-shared', KEY_ID, operator));
      expect(error).toBeInstanceOf(AlreadyExistsError);
      expect((error as AlreadyExistsError).reason).toBe(IdempotencyErrorReason.REQUEST_ID_REUSED);
      expect(repository.keys.get(KEY_ID)?.state).toBe(ACTIVE);
    });

    it("keeps request ids apart per caller: another caller's id is no conflict", async () => {
      const { repository, service } = subject();
      await service.rotate('rot-shared', OTHER_KEY_ID, operator);
      const { entity } = await service.rotate('rot-shared', KEY_ID, owner);
      expect(entity.participantId).toBe(OWNER);
      expect(repository.keys.get(KEY_ID)?.state).toBe(REVOKED);
    });

    it('gives a revoked participant no new key', async () => {
      const { repository, service } = subject(ParticipantState.PARTICIPANT_STATE_REVOKED);
      const error = await failure(service.rotate('rot-1', KEY_ID, operator));
      expect((error as FailedPreconditionError).reason).toBe(ErrorReason.PARTICIPANT_REVOKED);
      expect(repository.keys.size).toBe(2);
      expect(repository.events).toHaveLength(0);
    });

    it("refuses rotating another participant's key and changes nothing", async () => {
      const { repository, service } = subject();
      const error = await failure(service.rotate('rot-1', OTHER_KEY_ID, owner));
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect(repository.keys.get(OTHER_KEY_ID)?.state).toBe(ACTIVE);
      expect(repository.keys.size).toBe(2);
      expect(repository.events).toHaveLength(0);
    });

    it("lets an operator rotate any participant's key", async () => {
      const { repository, service } = subject();
      const { entity } = await service.rotate('rot-op', OTHER_KEY_ID, operator);
      expect(entity).toMatchObject({ participantId: STRANGER, createdBy: 'op-1' });
      expect(repository.keys.get(OTHER_KEY_ID)?.state).toBe(REVOKED);
    });

    it('answers NOT_FOUND for an unknown key and validates its arguments', async () => {
      const { service } = subject();
      const missing = await failure(service.rotate('rot-1', MISSING_KEY_ID, operator));
      expect(missing).toBeInstanceOf(NotFoundError);
      expect((missing as NotFoundError).reason).toBe(ErrorReason.API_KEY_NOT_FOUND);
      const invalid = await failure(service.rotate('bad id', 'nope', operator));
      expect((invalid as ValidationError).fieldViolations.map((v) => v.field)).toEqual([
        'request_id',
        'api_key_id',
      ]);
    });
  });

  describe('revoke', () => {
    it('lets a participant revoke its own key, recording the reason and an event', async () => {
      const { repository, service } = subject();
      const revoked = await service.revoke(KEY_ID, ' leaked ', owner);
      expect(revoked).toMatchObject({ state: REVOKED, revokeReason: 'leaked' });
      expect(repository.keys.get(KEY_ID)?.state).toBe(REVOKED);
      expect(repository.events).toEqual([
        {
          type: 'cinode.participant.key.revoked',
          data: {
            apiKeyId: KEY_ID,
            participantId: OWNER,
            version: 2,
            prefix: revoked.prefix,
            reason: 'leaked',
            actor: OWNER,
          },
        },
      ]);
    });

    it("refuses revoking another participant's key, even for a regulator", async () => {
      const { repository, service } = subject();
      for (const caller of [stranger, regulator]) {
        const error = await failure(service.revoke(KEY_ID, 'mine now', caller));
        expect(error).toBeInstanceOf(PermissionDeniedError);
      }
      expect(repository.keys.get(KEY_ID)?.state).toBe(ACTIVE);
      expect(repository.events).toHaveLength(0);
    });

    it("lets an operator revoke any participant's key", async () => {
      const { repository, service } = subject();
      await service.revoke(OTHER_KEY_ID, 'abuse', operator);
      expect(repository.keys.get(OTHER_KEY_ID)).toMatchObject({
        state: REVOKED,
        revokeReason: 'abuse',
      });
      expect(repository.events[0].data.actor).toBe('op-1');
    });

    it('answers a second revocation with the key as it is, keeping the first reason and emitting nothing', async () => {
      const { repository, service } = subject();
      const first = await service.revoke(KEY_ID, 'leaked', owner);
      const again = await service.revoke(KEY_ID, 'another reason', operator);
      expect(again).toMatchObject({ state: REVOKED, revokeReason: 'leaked' });
      expect(again.revokedAt).toEqual(first.revokedAt);
      expect(repository.events).toHaveLength(1);
    });

    it('requires a reason', async () => {
      const { service } = subject();
      const error = await failure(service.revoke(KEY_ID, '  ', owner));
      expect((error as ValidationError).fieldViolations).toEqual([
        { field: 'reason', description: 'is required' },
      ]);
    });
  });
});
