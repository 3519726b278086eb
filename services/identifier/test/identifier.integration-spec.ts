import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  ParticipantCertified,
  ParticipantReinstated,
  ParticipantRevoked,
  ParticipantSuspended,
  ParticipantUpdated,
  type EventContract,
  type ParticipantEventData,
  type ParticipantStateName,
} from '@cinode/contracts';
import { listDeadLetters } from '@cinode/events';
import { isGrpcError, type GrpcClient } from '@cinode/grpc';
import {
  IdentifierState,
  ObjectType,
  SuspensionCause,
  type Identifier,
  type IdentifierServiceClient,
  type IssueIdentifierRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
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
import { parseIdentifier } from '../src/format/identifier-format';
import { PARTICIPANT_CONSUMER } from '../src/participant-events/participant-events.consumer';
import {
  ParticipantEvents,
  identifierClient,
  startIdentifier,
  startMockProcess,
  type IdentifierUnderTest,
  type MockProcess,
  type ParticipantRecord,
} from './identifier-harness';

let natsServer: TestNats;
let auth: TestAuth;
let mock: MockProcess;
let databaseUrl: string;
let identifier: IdentifierUnderTest;
let events: ParticipantEvents;
let db: Client;
let nc: NatsConnection;
let operator: GrpcClient<IdentifierServiceClient>;
let providerA: GrpcClient<IdentifierServiceClient>;
let providerB: GrpcClient<IdentifierServiceClient>;
const A = randomUUID();
const B = randomUUID();
const RECORD_A: ParticipantRecord = {
  legalName: 'Example Cloud Ltd.',
  creditCode: '91310000MA1FL0000X',
};
const RECORD_B: ParticipantRecord = { legalName: 'Jane Doe', creditCode: null };
const METHOD = (rpc: string) => `/cinode.identifier.v1.IdentifierService/${rpc}`;

async function clients(address: string): Promise<void> {
  operator?.close();
  providerA?.close();
  providerB?.close();
  operator = identifierClient(address, await auth.token(['operator'], 'op-1'));
  providerA = identifierClient(address, await auth.token(['provider'], A));
  providerB = identifierClient(address, await auth.token(['provider'], B));
}

function issueRequest(overrides: Partial<IssueIdentifierRequest> = {}): IssueIdentifierRequest {
  return {
    requestId: randomUUID(),
    objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
    objectName: 'GPU pool east-1',
    ownerParticipantId: '',
    ownerName: '',
    ownerCreditCode: '',
    attributes: { region: 'east' },
    ...overrides,
  };
}

interface ProjectionRow {
  version: number;
  state: string;
  legal_name: string | null;
}

async function projection(participantId: string): Promise<ProjectionRow | undefined> {
  const { rows } = await db.query<ProjectionRow>(
    'SELECT version, state, legal_name FROM participant_projection WHERE participant_id = $1',
    [participantId],
  );
  return rows[0];
}

/** Publishes a participant's next event and waits until the projection holds its version. */
async function participantEvent(
  contract: EventContract<ParticipantEventData>,
  participantId: string,
  state: ParticipantStateName,
  options: { record?: ParticipantRecord; version?: number } = {},
): Promise<ParticipantEventData> {
  const { data } = await events.publish(contract, participantId, state, options);
  await eventually(`${participantId} version ${data.version} (${state})`, async () =>
    (await projection(participantId))?.version === data.version ? true : undefined,
  );
  return data;
}

/** Waits until the participant consumer has handled an event, whatever it made of it. */
async function processed(eventId: string): Promise<void> {
  await eventually(`event ${eventId} to be processed`, async () => {
    const { rows } = await db.query(
      'SELECT 1 FROM processed_event WHERE consumer = $1 AND event_id = $2',
      [PARTICIPANT_CONSUMER, eventId],
    );
    return rows.length > 0 ? true : undefined;
  });
}

async function resolveAs(
  client: GrpcClient<IdentifierServiceClient>,
  id: string,
): Promise<Identifier> {
  return (await client.api.resolveIdentifier({ identifier: id })).identifier!;
}

async function until(id: string, state: IdentifierState, timeoutMs = 20_000): Promise<Identifier> {
  return eventually(
    `${id} to be ${IdentifierState[state]}`,
    async () => {
      const record = await resolveAs(operator, id);
      return record.state === state ? record : undefined;
    },
    timeoutMs,
  );
}

async function filingsOf(id: string): Promise<number> {
  let count = 0;
  let pageToken = '';
  do {
    const page = await mock.operatorReads.api.listIdentifierFilings({
      nodeCode: '',
      pageSize: 500,
      pageToken,
    });
    count += page.filings.filter((f) => f.identifier === id).length;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return count;
}

/** Issues as operator, waiting out the UNAVAILABLE answered until the node is registered. */
async function issueWhenRegistered(request: IssueIdentifierRequest): Promise<Identifier> {
  return eventually('the node to register with the national node', async () => {
    try {
      return (await operator.api.issueIdentifier(request)).identifier;
    } catch (error) {
      if (isGrpcError(error, GrpcStatus.UNAVAILABLE)) return undefined;
      throw error;
    }
  });
}

/** A certified owner of its own, with a client acting as it. */
async function certifiedOwner(): Promise<{
  id: string;
  client: GrpcClient<IdentifierServiceClient>;
}> {
  const id = randomUUID();
  await participantEvent(ParticipantCertified, id, 'CERTIFIED');
  return { id, client: identifierClient(identifier.address, await auth.token(['provider'], id)) };
}

beforeAll(async () => {
  natsServer = await startTestNats();
  auth = await createTestAuth();
  mock = await startMockProcess(auth);
  databaseUrl = await createTestDatabase('identifier');
  identifier = await startIdentifier(databaseUrl, auth, mock.address, natsServer.url);
  await clients(identifier.address);
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  nc = await connect({ servers: natsServer.url });
  events = await ParticipantEvents.connect(natsServer.url);
  await participantEvent(ParticipantCertified, A, 'CERTIFIED', { record: RECORD_A });
  await participantEvent(ParticipantCertified, B, 'CERTIFIED', { record: RECORD_B });
}, 90_000);

afterAll(async () => {
  operator?.close();
  providerA?.close();
  providerB?.close();
  await events?.close();
  await nc?.close();
  await db?.end();
  await identifier?.stop();
  await mock?.stop();
  await natsServer?.stop();
});

describe('identifier service', () => {
  it("registers the node, issues a well-formed identifier with the owner's certified name and files it exactly once", async () => {
    const issued = await issueWhenRegistered(issueRequest({ ownerParticipantId: A }));
    const parsed = parseIdentifier(issued.identifier);
    expect(parsed.ok).toBe(true);
    expect(issued.identifier).toMatch(/^CN\.R\d{4}\.RP\.\d{8}[0-9A-Z]$/);
    expect(issued).toMatchObject({
      ownerParticipantId: A,
      ownerName: RECORD_A.legalName,
      ownerCreditCode: RECORD_A.creditCode,
    });
    expect(issued.transitions.map((t) => IdentifierState[t.toState])).toEqual([
      'IDENTIFIER_STATE_RESERVED',
      'IDENTIFIER_STATE_PENDING_FILING',
    ]);
    const { rows } = await db.query<{ node_code: string; identifier_prefix: string }>(
      'SELECT node_code, identifier_prefix FROM node_registration',
    );
    expect(issued.identifier.startsWith(`${rows[0].identifier_prefix}.`)).toBe(true);

    const filed = await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
    expect(filed.filingNumber).toMatch(/^NF\d{14}$/);
    const atNational = await mock.operatorReads.api.getIdentifierFiling({
      identifier: issued.identifier.toLowerCase(),
    });
    expect(atNational.filing).toMatchObject({
      filingNumber: filed.filingNumber,
      nodeCode: rows[0].node_code,
      ownerName: RECORD_A.legalName,
    });
    expect(await filingsOf(issued.identifier)).toBe(1);
    const { rows: versions } = await db.query<{ version: number }>(
      'SELECT version FROM identifier WHERE identifier = $1',
      [issued.identifier],
    );
    expect(versions).toEqual([{ version: 2 }]);
    // Resolution is case-insensitive and public once filed.
    expect((await resolveAs(providerB, issued.identifier.toLowerCase())).filingNumber).toBe(
      filed.filingNumber,
    );
  });

  it('answers a repeated request_id, even sent twice at once, with the first identifier, and refuses it for other content', async () => {
    const request = issueRequest({
      objectType: ObjectType.OBJECT_TYPE_LINE,
      objectName: 'Line SH-BJ',
    });
    const both = await Promise.all([
      providerA.api.issueIdentifier(request),
      providerA.api.issueIdentifier(request),
    ]);
    expect(both.map((r) => r.created).sort()).toEqual([false, true]);
    const id = both[0].identifier?.identifier;
    expect(both[1].identifier?.identifier).toBe(id);
    const again = await providerA.api.issueIdentifier(request);
    expect(again).toMatchObject({ created: false, identifier: { identifier: id } });

    const reused = await expectGrpcError(
      providerA.api.issueIdentifier({ ...request, objectName: 'Line SH-GZ' }),
      GrpcStatus.ALREADY_EXISTS,
    );
    expect(reused.status?.errorInfo?.reason).toBe('REQUEST_ID_REUSED');
    const { rows } = await db.query(
      `SELECT scope, operation, object_id FROM idempotency_key WHERE request_id = $1`,
      [request.requestId],
    );
    expect(rows).toEqual([{ scope: A, operation: 'IssueIdentifier', object_id: id }]);
    // The same request id is another request when another caller sends it.
    expect((await providerB.api.issueIdentifier(request)).created).toBe(true);
  });

  it('keeps an identifier pending through a national node outage and a restart, then files it exactly once', async () => {
    await mock.setOutage(true);
    const issued = (
      await providerA.api.issueIdentifier(issueRequest({ objectName: 'outage pool' }))
    ).identifier!;
    const jsm = await nc.jetstreamManager();
    // Attempts are being made and failing (redeliveries), yet the record stays pending.
    await eventually('filing retries during the outage', async () => {
      const info = await jsm.consumers.info('IDENTIFIER', 'identifier-filing');
      return info.num_redelivered > 0 ? true : undefined;
    });
    expect((await resolveAs(operator, issued.identifier)).state).toBe(
      IdentifierState.IDENTIFIER_STATE_PENDING_FILING,
    );

    // A participant cannot see another's identifier before it is filed.
    const hidden = await expectGrpcError(
      providerB.api.resolveIdentifier({ identifier: issued.identifier }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(hidden.status?.errorInfo?.reason).toBe('IDENTIFIER_NOT_VISIBLE');
    await expectGrpcError(
      providerB.api.listIdentifiers({
        ownerParticipantId: A,
        objectType: 0,
        state: 0,
        pageSize: 0,
        pageToken: '',
      }),
      GrpcStatus.PERMISSION_DENIED,
    );
    const ownList = await providerB.api.listIdentifiers({
      ownerParticipantId: '',
      objectType: 0,
      state: 0,
      pageSize: 0,
      pageToken: '',
    });
    expect(ownList.identifiers.every((i) => i.ownerParticipantId === B)).toBe(true);

    // Restart mid-outage.
    await identifier.stop();
    identifier = await startIdentifier(databaseUrl, auth, mock.address, natsServer.url);
    await clients(identifier.address);
    expect((await resolveAs(operator, issued.identifier)).state).toBe(
      IdentifierState.IDENTIFIER_STATE_PENDING_FILING,
    );
    expect(
      await eventually('the filing still queued after the restart', async () => {
        const info = await jsm.consumers.info('IDENTIFIER', 'identifier-filing');
        return info.num_ack_pending > 0 || info.num_pending > 0 ? true : undefined;
      }),
    ).toBe(true);

    await mock.setOutage(false);
    const filed = await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_FILED, 30_000);
    expect(filed.filingNumber).not.toBe('');
    expect(await filingsOf(issued.identifier)).toBe(1);
    expect(
      filed.transitions.filter((t) => t.toState === IdentifierState.IDENTIFIER_STATE_FILED),
    ).toHaveLength(1);
    expect((await resolveAs(providerB, issued.identifier)).state).toBe(
      IdentifierState.IDENTIFIER_STATE_FILED,
    );
  }, 90_000);

  it("suspends an owner's identifiers when it is suspended, restores them on reinstatement, but not an operator's suspension", async () => {
    const owner = await certifiedOwner();
    try {
      const one = (await owner.client.api.issueIdentifier(issueRequest())).identifier!;
      const two = (
        await owner.client.api.issueIdentifier(
          issueRequest({ objectType: ObjectType.OBJECT_TYPE_APPLICATION_SERVICE }),
        )
      ).identifier!;
      await until(one.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      await until(two.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      await operator.api.suspendIdentifier({
        identifier: two.identifier,
        reason: 'misleading name',
      });

      await participantEvent(ParticipantSuspended, owner.id, 'SUSPENDED');
      const cascaded = await until(one.identifier, IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      expect(cascaded.suspensionCause).toBe(SuspensionCause.SUSPENSION_CAUSE_OWNER_SUSPENDED);
      expect(cascaded.transitions.at(-1)?.actor).toBe('system:participant-events');
      const blocked = await expectGrpcError(
        owner.client.api.issueIdentifier(issueRequest()),
        GrpcStatus.FAILED_PRECONDITION,
      );
      expect(blocked.status?.errorInfo).toMatchObject({
        reason: 'OWNER_NOT_CERTIFIED',
        metadata: { current_state: 'SUSPENDED' },
      });

      await participantEvent(ParticipantReinstated, owner.id, 'CERTIFIED');
      await until(one.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      const stillSuspended = await resolveAs(operator, two.identifier);
      expect(stillSuspended.state).toBe(IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      expect(stillSuspended.suspensionCause).toBe(SuspensionCause.SUSPENSION_CAUSE_OPERATOR);
    } finally {
      owner.client.close();
    }
  }, 60_000);

  it("suspends a revoked owner's identifiers for good", async () => {
    const owner = await certifiedOwner();
    try {
      const issued = (await owner.client.api.issueIdentifier(issueRequest())).identifier!;
      await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      await participantEvent(ParticipantRevoked, owner.id, 'REVOKED');
      const revoked = await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      expect(revoked.suspensionCause).toBe(SuspensionCause.SUSPENSION_CAUSE_OWNER_REVOKED);
      const reinstate = await expectGrpcError(
        operator.api.reinstateIdentifier({ identifier: issued.identifier, reason: 'try' }),
        GrpcStatus.FAILED_PRECONDITION,
      );
      expect(reinstate.status?.errorInfo?.reason).toBe('OWNER_NOT_ACTIVE');
    } finally {
      owner.client.close();
    }
  }, 60_000);

  it('changes nothing for an older version of a participant arriving after a newer one', async () => {
    const owner = await certifiedOwner();
    try {
      const issued = (await owner.client.api.issueIdentifier(issueRequest())).identifier!;
      await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      // Version 3 overtakes version 2 (another relay replica was faster).
      await participantEvent(ParticipantSuspended, owner.id, 'SUSPENDED', { version: 3 });
      await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      const late = await events.publish(ParticipantUpdated, owner.id, 'CERTIFIED', {
        version: 2,
        record: { legalName: 'Renamed Cloud Ltd.', creditCode: null },
      });
      await processed(late.eventId);

      expect(await projection(owner.id)).toEqual({
        version: 3,
        state: 'SUSPENDED',
        legal_name: 'Example Cloud Ltd.',
      });
      const after = await resolveAs(operator, issued.identifier);
      expect(after.state).toBe(IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      expect(after.transitions.at(-1)?.toState).toBe(IdentifierState.IDENTIFIER_STATE_SUSPENDED);
    } finally {
      owner.client.close();
    }
  }, 60_000);

  it('dead-letters a malformed participant event on its first delivery, leaving the projection untouched', async () => {
    const owner = await certifiedOwner();
    owner.client.close();
    const before = await projection(owner.id);
    const eventId = await events.publishMessage({
      type: ParticipantSuspended.type,
      schemaVersion: 1,
      // No version, name or kind: nothing this consumer could order or apply.
      data: { participantId: owner.id, state: 'SUSPENDED' },
    });
    const jsm = await nc.jetstreamManager();
    const parked = await eventually(`event ${eventId} on the dead-letter stream`, async () => {
      const letters = await listDeadLetters(jsm, { consumer: PARTICIPANT_CONSUMER, limit: 1_000 });
      return letters.find((letter) => letter.eventId === eventId);
    });
    expect(parked).toMatchObject({ deliveries: 1, subject: ParticipantSuspended.type });
    expect(parked.error).toMatch(/version/);
    expect(await projection(owner.id)).toEqual(before);
  });

  it('refuses uncertified owners to anyone, contradicting owner fields, issuing for others, and illegal transitions', async () => {
    const strangerId = randomUUID();
    const stranger = identifierClient(
      identifier.address,
      await auth.token(['provider'], strangerId),
    );
    try {
      const notCertified = await expectGrpcError(
        stranger.api.issueIdentifier(issueRequest()),
        GrpcStatus.FAILED_PRECONDITION,
      );
      expect(notCertified.status?.errorInfo).toMatchObject({
        reason: 'OWNER_NOT_CERTIFIED',
        metadata: { current_state: 'UNKNOWN' },
      });
    } finally {
      stranger.close();
    }
    const byOperator = await expectGrpcError(
      operator.api.issueIdentifier(issueRequest({ ownerParticipantId: strangerId })),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(byOperator.status?.errorInfo?.reason).toBe('OWNER_NOT_CERTIFIED');

    const mismatch = await expectGrpcError(
      providerA.api.issueIdentifier(
        issueRequest({ ownerName: 'Someone Else Ltd.', ownerCreditCode: RECORD_A.creditCode! }),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(mismatch.status?.errorInfo?.reason).toBe('OWNER_RECORD_MISMATCH');
    expect(mismatch.status?.fieldViolations).toEqual([
      { field: 'owner_name', description: "does not match the owner's certified record" },
    ]);
    const matching = await providerA.api.issueIdentifier(
      issueRequest({ ownerName: RECORD_A.legalName, ownerCreditCode: RECORD_A.creditCode! }),
    );
    expect(matching.created).toBe(true);

    const forOther = await expectGrpcError(
      providerA.api.issueIdentifier(issueRequest({ ownerParticipantId: B })),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(forOther.status?.errorInfo?.reason).toBe('NOT_OWNER');
    await expectGrpcError(
      providerA.api.suspendIdentifier({ identifier: 'CN.R0001.RP.000000010', reason: 'x' }),
      GrpcStatus.PERMISSION_DENIED,
    );

    const issued = (await providerA.api.issueIdentifier(issueRequest())).identifier!;
    await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
    const retired = (
      await providerA.api.retireIdentifier({
        identifier: issued.identifier,
        reason: 'pool decommissioned',
      })
    ).identifier!;
    expect(retired.state).toBe(IdentifierState.IDENTIFIER_STATE_RETIRED);
    const illegal = await expectGrpcError(
      operator.api.suspendIdentifier({ identifier: issued.identifier, reason: 'late' }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(illegal.status?.errorInfo?.metadata.current_state).toBe('RETIRED');
    const noReason = await expectGrpcError(
      operator.api.retireIdentifier({ identifier: issued.identifier, reason: ' ' }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(noReason.status?.fieldViolations.map((v) => v.field)).toEqual(['reason']);

    const typo = issued.identifier.slice(0, -1) + (issued.identifier.endsWith('0') ? '1' : '0');
    const mistyped = await expectGrpcError(
      operator.api.resolveIdentifier({ identifier: typo }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(mistyped.status?.errorInfo?.reason).toBe('IDENTIFIER_CHECK_CHARACTER');
  }, 60_000);

  describe('audit trail', () => {
    interface AuditRow {
      object_id: string;
      actor: string;
      outcome: string;
      reason: string;
      committed: boolean;
    }

    /** The audit records of one RPC about one identifier or request id, oldest first. */
    async function recordsOf(rpc: string, objectOrRequestId: string): Promise<AuditRow[]> {
      const { rows } = await db.query<AuditRow>(
        `SELECT object_id, actor, outcome, reason, committed FROM audit_log
          WHERE service = 'identifier' AND object_type = 'identifier' AND method = $1
            AND (object_id = $2 OR request_id = $2)
          ORDER BY sequence`,
        [METHOD(rpc), objectOrRequestId],
      );
      return rows;
    }

    it('records exactly one audit record per IssueIdentifier call, allowed or refused', async () => {
      const regulator = identifierClient(
        identifier.address,
        await auth.token(['regulator'], 'reg-1'),
      );
      try {
        const refused = issueRequest();
        await expectGrpcError(regulator.api.issueIdentifier(refused), GrpcStatus.PERMISSION_DENIED);
        expect(await recordsOf('IssueIdentifier', refused.requestId)).toEqual([
          {
            object_id: '',
            actor: 'reg-1',
            outcome: 'PERMISSION_DENIED',
            reason: 'ROLE_NOT_ALLOWED',
            committed: false,
          },
        ]);
      } finally {
        regulator.close();
      }

      const allowed = issueRequest();
      const issued = (await providerA.api.issueIdentifier(allowed)).identifier!;
      expect(await recordsOf('IssueIdentifier', allowed.requestId)).toEqual([
        { object_id: issued.identifier, actor: A, outcome: 'OK', reason: '', committed: true },
      ]);
      // A refusal by the service's own rules is one record too.
      const forOther = issueRequest({ ownerParticipantId: B });
      await expectGrpcError(providerA.api.issueIdentifier(forOther), GrpcStatus.PERMISSION_DENIED);
      expect(await recordsOf('IssueIdentifier', forOther.requestId)).toEqual([
        expect.objectContaining({
          outcome: 'PERMISSION_DENIED',
          reason: 'NOT_OWNER',
          committed: false,
        }),
      ]);
    });

    it('records exactly one audit record per Suspend, Reinstate and Retire call, allowed or refused', async () => {
      const issued = (await providerA.api.issueIdentifier(issueRequest())).identifier!;
      const id = issued.identifier;
      await until(id, IdentifierState.IDENTIFIER_STATE_FILED);
      const regulator = identifierClient(
        identifier.address,
        await auth.token(['regulator'], 'reg-1'),
      );
      const refusedByRole = (actor: string) => ({
        object_id: id,
        actor,
        outcome: 'PERMISSION_DENIED',
        reason: 'ROLE_NOT_ALLOWED',
        committed: false,
      });
      const ok = (actor: string) => ({
        object_id: id,
        actor,
        outcome: 'OK',
        reason: '',
        committed: true,
      });
      try {
        await expectGrpcError(
          providerA.api.suspendIdentifier({ identifier: id, reason: 'self' }),
          GrpcStatus.PERMISSION_DENIED,
        );
        await operator.api.suspendIdentifier({ identifier: id, reason: 'check' });
        expect(await recordsOf('SuspendIdentifier', id)).toEqual([refusedByRole(A), ok('op-1')]);

        await expectGrpcError(
          providerA.api.reinstateIdentifier({ identifier: id, reason: 'self' }),
          GrpcStatus.PERMISSION_DENIED,
        );
        await operator.api.reinstateIdentifier({ identifier: id, reason: 'checked' });
        expect(await recordsOf('ReinstateIdentifier', id)).toEqual([refusedByRole(A), ok('op-1')]);

        await expectGrpcError(
          regulator.api.retireIdentifier({ identifier: id, reason: 'no' }),
          GrpcStatus.PERMISSION_DENIED,
        );
        await expectGrpcError(
          providerB.api.retireIdentifier({ identifier: id, reason: 'not mine' }),
          GrpcStatus.PERMISSION_DENIED,
        );
        await providerA.api.retireIdentifier({ identifier: id, reason: 'done' });
        expect(await recordsOf('RetireIdentifier', id)).toEqual([
          refusedByRole('reg-1'),
          { ...refusedByRole(B), reason: 'NOT_OWNER' },
          ok(A),
        ]);
      } finally {
        regulator.close();
      }
    }, 60_000);
  });
});
