import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { AUDIT_METADATA, type CallAuditDeclaration } from '@cinode/audit';
import { generateApiKey } from '@cinode/common';
import { toTimestamp } from '@cinode/grpc';
import {
  ParticipantKind,
  ParticipantState,
  UserCategory,
  type CreateParticipantRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  createTestAuth,
  createTestDatabase,
  expectGrpcError,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import { Client } from 'pg';
import { ApiKeysGrpcController } from '../src/api-keys/api-keys.grpc-controller';
import { CertificationGrpcController } from '../src/certification/certification.grpc-controller';
import { ParticipantsGrpcController } from '../src/participants/participants.grpc-controller';
import { QualificationsGrpcController } from '../src/qualifications/qualifications.grpc-controller';
import { TokensGrpcController } from '../src/tokens/tokens.grpc-controller';
import {
  startServiceCenter,
  type Clients,
  type ServiceCenterUnderTest,
} from './service-center-harness';

const OPERATOR_KEY = generateApiKey().key;

let auth: TestAuth;
let nats: TestNats;
let center: ServiceCenterUnderTest;
let db: Client;
let databaseUrl: string;
let operator: Clients;
let regulator: Clients;
let anonymous: Clients;

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  databaseUrl = await createTestDatabase('service_center_audit');
  center = await startServiceCenter(databaseUrl, nats.url, auth, {
    OPERATOR_BOOTSTRAP_KEY: OPERATOR_KEY,
    // A second, tight cap for the test that needs the service's own deadline.
    GRPC_MAX_DEADLINE_MS: '20000',
  });
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  operator = center.clientsAs(() => auth.token(['operator'], 'op-audit'));
  regulator = center.clientsAs(() => auth.token(['regulator'], 'reg-audit'));
  anonymous = center.clientsAs();
});

afterAll(async () => {
  await db?.end();
  await center?.stop();
  await nats?.stop();
});

interface AuditRow {
  method: string;
  object_id: string;
  actor: string;
  outcome: string;
  reason: string;
  committed: boolean;
}

function registration(kind = ParticipantKind.PARTICIPANT_KIND_RESELLER): CreateParticipantRequest {
  return {
    requestId: randomUUID(),
    kind,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name: `Audited ${randomUUID().slice(0, 8)}`,
    organization: {
      creditCode: '91440300708461136T',
      address: 'Road 1',
      contactPerson: { name: 'A', title: 'B', mobile: '13800138000', email: 'a@example.cn' },
      responsiblePerson: { name: 'C', title: 'D', mobile: '13900139000', email: 'c@example.cn' },
    },
    individual: undefined,
  };
}

async function registered(kind?: ParticipantKind): Promise<string> {
  return (await anonymous.participants.api.createParticipant(registration(kind))).participant!.id;
}

async function certified(
  kind?: ParticipantKind,
): Promise<{ id: string; key: string; keyId: string }> {
  const id = await registered(kind);
  await operator.certification.api.startReview({ participantId: id, reason: 'review' });
  const { issuedApiKey } = await operator.certification.api.certifyParticipant({
    participantId: id,
    reason: 'ok',
    requestId: randomUUID(),
  });
  return { id, key: issuedApiKey!.apiKeySecret, keyId: issuedApiKey!.apiKey!.id };
}

async function lastSequence(): Promise<number> {
  const { rows } = await db.query<{ s: string | null }>(`SELECT max(sequence) AS s FROM audit_log`);
  return Number(rows[0].s ?? 0);
}

/** The records written since `after`, oldest first. */
async function recordsSince(after: number): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT method, object_id, actor, outcome, reason, committed FROM audit_log
      WHERE sequence > $1 ORDER BY sequence`,
    [after],
  );
  return rows;
}

/** Runs a call (which may fail) and returns the audit records it left. */
async function recordsOf(call: () => Promise<unknown>): Promise<AuditRow[]> {
  const before = await lastSequence();
  await call().catch(() => undefined);
  return recordsSince(before);
}

const PATH = {
  CreateParticipant: '/cinode.participant.v1.ParticipantService/CreateParticipant',
  UpdateParticipant: '/cinode.participant.v1.ParticipantService/UpdateParticipant',
  ResubmitParticipant: '/cinode.participant.v1.ParticipantService/ResubmitParticipant',
  StartReview: '/cinode.participant.v1.CertificationService/StartReview',
  CertifyParticipant: '/cinode.participant.v1.CertificationService/CertifyParticipant',
  RejectParticipant: '/cinode.participant.v1.CertificationService/RejectParticipant',
  SuspendParticipant: '/cinode.participant.v1.CertificationService/SuspendParticipant',
  ReinstateParticipant: '/cinode.participant.v1.CertificationService/ReinstateParticipant',
  RevokeParticipant: '/cinode.participant.v1.CertificationService/RevokeParticipant',
  GrantResaleQualification: '/cinode.participant.v1.QualificationService/GrantResaleQualification',
  RevokeQualification: '/cinode.participant.v1.QualificationService/RevokeQualification',
  RotateApiKey: '/cinode.participant.v1.ApiKeyService/RotateApiKey',
  RevokeApiKey: '/cinode.participant.v1.ApiKeyService/RevokeApiKey',
  IssueToken: '/cinode.credential.v1.TokenService/IssueToken',
  RotateSigningKey: '/cinode.credential.v1.TokenService/RotateSigningKey',
} as const;
type Rpc = keyof typeof PATH;

/**
 * For every state-changing RPC: a call by a role it allows (with the record it must leave) and a
 * call it refuses. Each returns the audit records the call left.
 */
const CASES: Record<
  Rpc,
  {
    allowed: () => Promise<{ records: AuditRow[]; objectId: string; actor: string }>;
    refused: () => Promise<{ records: AuditRow[]; actor: string }>;
  }
> = {
  CreateParticipant: {
    allowed: async () => {
      let id = '';
      const records = await recordsOf(async () => {
        id = (await anonymous.participants.api.createParticipant(registration())).participant!.id;
      });
      return { records, objectId: id, actor: '' };
    },
    // A public RPC: refused only for a token it cannot verify.
    refused: async () => {
      const forged = center.clientsAs(() => 'not-a-token');
      return {
        records: await recordsOf(() => forged.participants.api.createParticipant(registration())),
        actor: '',
      };
    },
  },
  UpdateParticipant: {
    allowed: async () => {
      const id = await registered();
      const records = await recordsOf(() =>
        operator.participants.api.updateParticipant({
          participant: {
            id,
            kind: 0,
            userCategory: 0,
            name: 'Renamed Ltd.',
            state: 0,
            organization: undefined,
            individual: undefined,
            createTime: undefined,
            updateTime: undefined,
          },
          updateMask: ['name'],
        }),
      );
      return { records, objectId: id, actor: 'op-audit' };
    },
    refused: async () => ({
      records: await recordsOf(() =>
        regulator.participants.api.updateParticipant({ participant: undefined, updateMask: [] }),
      ),
      actor: 'reg-audit',
    }),
  },
  ResubmitParticipant: {
    allowed: async () => {
      const id = await registered();
      await operator.certification.api.startReview({ participantId: id, reason: 'r' });
      await operator.certification.api.rejectParticipant({ participantId: id, reason: 'r' });
      const records = await recordsOf(() =>
        operator.participants.api.resubmitParticipant({ participantId: id, ...resubmission() }),
      );
      return { records, objectId: id, actor: 'op-audit' };
    },
    refused: async () => ({
      records: await recordsOf(() =>
        regulator.participants.api.resubmitParticipant({
          participantId: randomUUID(),
          ...resubmission(),
        }),
      ),
      actor: 'reg-audit',
    }),
  },
  StartReview: transition('StartReview', [], (id) =>
    operator.certification.api.startReview({ participantId: id, reason: 'r' }),
  ),
  CertifyParticipant: transition('CertifyParticipant', ['startReview'], (id) =>
    operator.certification.api.certifyParticipant({
      participantId: id,
      reason: 'r',
      requestId: randomUUID(),
    }),
  ),
  RejectParticipant: transition('RejectParticipant', ['startReview'], (id) =>
    operator.certification.api.rejectParticipant({ participantId: id, reason: 'r' }),
  ),
  SuspendParticipant: transition('SuspendParticipant', ['startReview', 'certify'], (id) =>
    operator.certification.api.suspendParticipant({ participantId: id, reason: 'r' }),
  ),
  ReinstateParticipant: transition(
    'ReinstateParticipant',
    ['startReview', 'certify', 'suspend'],
    (id) => operator.certification.api.reinstateParticipant({ participantId: id, reason: 'r' }),
  ),
  RevokeParticipant: transition('RevokeParticipant', [], (id) =>
    operator.certification.api.revokeParticipant({ participantId: id, reason: 'r' }),
  ),
  GrantResaleQualification: {
    allowed: async () => {
      const { id } = await certified(ParticipantKind.PARTICIPANT_KIND_RESELLER);
      let qualificationId = '';
      const records = await recordsOf(async () => {
        qualificationId = (await operator.qualifications.api.grantResaleQualification(grant(id)))
          .qualification!.id;
      });
      return { records, objectId: qualificationId, actor: 'op-audit' };
    },
    refused: async () => ({
      records: await recordsOf(() =>
        regulator.qualifications.api.grantResaleQualification(grant(randomUUID())),
      ),
      actor: 'reg-audit',
    }),
  },
  RevokeQualification: {
    allowed: async () => {
      const { id } = await certified(ParticipantKind.PARTICIPANT_KIND_RESELLER);
      const q = (await operator.qualifications.api.grantResaleQualification(grant(id)))
        .qualification!.id;
      const records = await recordsOf(() =>
        operator.qualifications.api.revokeQualification({ qualificationId: q, reason: 'r' }),
      );
      return { records, objectId: q, actor: 'op-audit' };
    },
    refused: async () => ({
      records: await recordsOf(() =>
        regulator.qualifications.api.revokeQualification({
          qualificationId: randomUUID(),
          reason: 'r',
        }),
      ),
      actor: 'reg-audit',
    }),
  },
  RotateApiKey: {
    allowed: async () => {
      const { id, keyId } = await certified(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER);
      const own = center.clientsAs(() => auth.token(['provider'], id, id));
      const records = await recordsOf(() =>
        own.apiKeys.api.rotateApiKey({ requestId: randomUUID(), apiKeyId: keyId }),
      );
      return { records, objectId: keyId, actor: id };
    },
    refused: async () => ({
      records: await recordsOf(() =>
        regulator.apiKeys.api.rotateApiKey({ requestId: randomUUID(), apiKeyId: randomUUID() }),
      ),
      actor: 'reg-audit',
    }),
  },
  RevokeApiKey: {
    allowed: async () => {
      const { keyId } = await certified();
      const records = await recordsOf(() =>
        operator.apiKeys.api.revokeApiKey({ apiKeyId: keyId, reason: 'leaked' }),
      );
      return { records, objectId: keyId, actor: 'op-audit' };
    },
    refused: async () => ({
      records: await recordsOf(() =>
        regulator.apiKeys.api.revokeApiKey({ apiKeyId: randomUUID(), reason: 'r' }),
      ),
      actor: 'reg-audit',
    }),
  },
  IssueToken: {
    allowed: async () => {
      const { id, key } = await certified();
      const records = await recordsOf(() => anonymous.tokens.api.issueToken({ apiKey: key }));
      return { records, objectId: id, actor: '' };
    },
    // A public RPC: an unknown key is its refusal.
    refused: async () => ({
      records: await recordsOf(() =>
        anonymous.tokens.api.issueToken({ apiKey: generateApiKey().key }),
      ),
      actor: '',
    }),
  },
  RotateSigningKey: {
    allowed: async () => {
      let kid = '';
      const records = await recordsOf(async () => {
        kid = (await operator.tokens.api.rotateSigningKey({ requestId: randomUUID() })).activeKid;
      });
      return { records, objectId: kid, actor: 'op-audit' };
    },
    refused: async () => ({
      records: await recordsOf(() =>
        regulator.tokens.api.rotateSigningKey({ requestId: randomUUID() }),
      ),
      actor: 'reg-audit',
    }),
  },
};

function resubmission() {
  const r = registration();
  return {
    userCategory: r.userCategory,
    name: r.name,
    organization: r.organization,
    individual: r.individual,
    reason: 'fixed',
  };
}

function grant(participantId: string) {
  return {
    requestId: randomUUID(),
    participantId,
    validFrom: toTimestamp(new Date()),
    validUntil: toTimestamp(new Date(Date.now() + 86_400_000)),
    reason: 'contract',
  };
}

/** A certification RPC on a participant brought to the state it starts from. */
function transition(
  rpc: Rpc,
  before: ('startReview' | 'certify' | 'suspend')[],
  call: (id: string) => Promise<unknown>,
) {
  return {
    allowed: async () => {
      const id = await registered();
      for (const step of before) {
        if (step === 'startReview')
          await operator.certification.api.startReview({ participantId: id, reason: 'r' });
        if (step === 'certify')
          await operator.certification.api.certifyParticipant({
            participantId: id,
            reason: 'r',
            requestId: '',
          });
        if (step === 'suspend')
          await operator.certification.api.suspendParticipant({ participantId: id, reason: 'r' });
      }
      return { records: await recordsOf(() => call(id)), objectId: id, actor: 'op-audit' };
    },
    refused: async () => {
      const id = await registered();
      const participant = center.clientsAs(() => auth.token(['reseller'], id, id));
      void rpc;
      const records = await recordsOf(() =>
        participant.certification.api.revokeParticipant({ participantId: id, reason: 'r' }),
      );
      return { records, actor: id };
    },
  };
}

describe('service center audit trail', () => {
  it('covers every state-changing RPC: the cases below list exactly the @Audited handlers', () => {
    const audited: string[] = [];
    for (const controller of [
      ParticipantsGrpcController,
      CertificationGrpcController,
      QualificationsGrpcController,
      ApiKeysGrpcController,
      TokensGrpcController,
    ]) {
      const prototype = controller.prototype as unknown as Record<string, object>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        const patterns = Reflect.getMetadata(PATTERN_METADATA, handler) as
          | { rpc: string }[]
          | undefined;
        const declaration = Reflect.getMetadata(AUDIT_METADATA, handler) as
          | CallAuditDeclaration
          | undefined;
        if (patterns && declaration?.kind === 'audited') audited.push(patterns[0].rpc);
      }
    }
    expect(audited.sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(Object.keys(CASES) as Rpc[])(
    '%s: exactly one record for an allowed call (in the transaction of its change) and one for a refused call',
    async (rpc) => {
      const allowed = await CASES[rpc].allowed();
      expect(allowed.records).toEqual([
        {
          method: PATH[rpc],
          object_id: allowed.objectId,
          actor: allowed.actor,
          outcome: 'OK',
          reason: '',
          committed: true,
        },
      ]);
      const refused = await CASES[rpc].refused();
      expect(refused.records).toHaveLength(1);
      expect(refused.records[0]).toMatchObject({
        actor: refused.actor,
        committed: false,
      });
      expect(refused.records[0].outcome).toMatch(/^(UNAUTHENTICATED|PERMISSION_DENIED)$/);
    },
  );
});

describe('service center audit trail when the transaction dies', () => {
  /** Holds a participant's row lock from outside, so the service's transaction waits on it. */
  async function holdingLock<T>(id: string, work: (lockHolder: Client) => Promise<T>): Promise<T> {
    const holder = new Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM participant WHERE id = $1 FOR UPDATE', [id]);
      return await work(holder);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }

  async function state(id: string): Promise<{ state: number; version: number; events: number }> {
    const { rows } = await db.query<{ state: number; version: number; events: string }>(
      `SELECT p.state, p.version,
              (SELECT count(*) FROM outbox_event o WHERE o.data::jsonb->>'participantId' = p.id::text) AS events
         FROM participant p WHERE p.id = $1`,
      [id],
    );
    return { ...rows[0], events: Number(rows[0].events) };
  }

  /** The backend of the service's transaction waiting on the lock, once it is waiting. */
  async function waitingBackend(): Promise<number> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { rows } = await db.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
          WHERE application_name = 'service-center' AND wait_event_type = 'Lock'`,
      );
      if (rows[0]) return rows[0].pid;
      await sleep(20);
    }
    throw new Error('the service never waited on the lock');
  }

  it('leaves no record of a change that did not happen when its backend is killed mid-transaction', async () => {
    const { id } = await certified();
    const before = await state(id);
    const since = await lastSequence();
    await holdingLock(id, async () => {
      const call = operator.certification.api.suspendParticipant({
        participantId: id,
        reason: 'r',
      });
      const pid = await waitingBackend();
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await expectGrpcError(call, GrpcStatus.INTERNAL);
    });
    expect(await state(id)).toEqual(before);
    expect((await state(id)).state).toBe(ParticipantState.PARTICIPANT_STATE_CERTIFIED);
    expect(await recordsSince(since)).toEqual([
      expect.objectContaining({
        method: PATH.SuspendParticipant,
        object_id: id,
        outcome: 'INTERNAL',
        committed: false,
      }),
    ]);
  });

  it('rolls back a transaction the caller gave up on, and records that nothing committed', async () => {
    const { id } = await certified();
    const before = await state(id);
    const since = await lastSequence();
    await holdingLock(id, async () => {
      const call = operator.certification.api.suspendParticipant(
        { participantId: id, reason: 'r' },
        { timeoutMs: 1_000 },
      );
      await waitingBackend();
      await expectGrpcError(call, GrpcStatus.DEADLINE_EXCEEDED);
      // Cancelled, not just answered: the service's statement no longer waits on the lock.
      const deadline = Date.now() + 5_000;
      for (;;) {
        const { rows } = await db.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'service-center' AND wait_event_type = 'Lock'`,
        );
        if (rows.length === 0) break;
        if (Date.now() > deadline) throw new Error('the statement still waits on the lock');
        await sleep(20);
      }
    });
    expect(await state(id)).toEqual(before);
    const records = await (async () => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const rows = await recordsSince(since);
        if (rows.length > 0 || Date.now() > deadline) return rows;
        await sleep(20);
      }
    })();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ object_id: id, committed: false });
    expect(records[0].outcome).toMatch(/^(CANCELLED|DEADLINE_EXCEEDED)$/);
  });
});
