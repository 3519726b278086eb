import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { isGrpcError, type GrpcClient } from '@cinode/grpc';
import {
  IdentifierState,
  ObjectType,
  SuspensionCause,
  type Identifier,
  type IdentifierServiceClient,
  type IssueIdentifierRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { createTestDatabase, expectGrpcError, startTestNats, type TestNats } from '@cinode/testing';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { parseIdentifier } from '../src/format/identifier-format';
import {
  ParticipantEvents,
  createHarnessAuth,
  eventually,
  identifierClient,
  startIdentifier,
  startMockProcess,
  type HarnessAuth,
  type IdentifierUnderTest,
  type MockProcess,
} from './identifier-harness';

let auth: HarnessAuth;
let mock: MockProcess;
let databaseUrl: string;
let identifier: IdentifierUnderTest;
let events: ParticipantEvents;
let db: Client;
let nc: NatsConnection;
let operator: GrpcClient<IdentifierServiceClient>;
let providerA: GrpcClient<IdentifierServiceClient>;
let providerB: GrpcClient<IdentifierServiceClient>;
const run = randomUUID().slice(0, 8);
const A = `prov-a-${run}`;
const B = `prov-b-${run}`;

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
    ownerName: 'Example Cloud Ltd.',
    ownerCreditCode: '91310000MA1FL0000X',
    attributes: { region: 'east' },
    ...overrides,
  };
}

async function projectedState(participantId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ state: string }>(
    'SELECT state FROM participant_projection WHERE participant_id = $1',
    [participantId],
  );
  return rows[0]?.state;
}

/** Publishes a participant event and waits until the projection shows its state. */
async function participantEvent(
  verb: string,
  participantId: string,
  state: string,
  previousState = '',
): Promise<void> {
  await events.publish(verb, participantId, state, previousState);
  await eventually(
    async () => ((await projectedState(participantId)) === state ? true : undefined),
    `${participantId} ${state}`,
  );
}

async function resolveAs(
  client: GrpcClient<IdentifierServiceClient>,
  id: string,
): Promise<Identifier> {
  return (await client.api.resolveIdentifier({ identifier: id })).identifier!;
}

async function until(id: string, state: IdentifierState, timeoutMs = 20_000): Promise<Identifier> {
  return eventually(
    async () => {
      const record = await resolveAs(operator, id);
      return record.state === state ? record : undefined;
    },
    `${id} to be ${IdentifierState[state]}`,
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
  return eventually(async () => {
    try {
      return (await operator.api.issueIdentifier(request)).identifier;
    } catch (error) {
      if (isGrpcError(error, GrpcStatus.UNAVAILABLE)) return undefined;
      throw error;
    }
  }, 'the node to register with the national node');
}

let natsServer: TestNats;

beforeAll(async () => {
  natsServer = await startTestNats();
  auth = await createHarnessAuth();
  mock = await startMockProcess(auth);
  databaseUrl = await createTestDatabase('identifier');
  identifier = await startIdentifier(databaseUrl, auth, mock.address, natsServer.url);
  await clients(identifier.address);
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  nc = await connect({ servers: natsServer.url });
  events = await ParticipantEvents.connect(natsServer.url);
  await participantEvent('certified', A, 'certified', 'under_review');
  await participantEvent('certified', B, 'certified', 'under_review');
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
  it('registers the node, issues a well-formed identifier and files it exactly once at the national node', async () => {
    const issued = await issueWhenRegistered(issueRequest({ ownerParticipantId: A }));
    const parsed = parseIdentifier(issued.identifier);
    expect(parsed.ok).toBe(true);
    expect(issued.identifier).toMatch(/^CN\.R\d{4}\.RP\.\d{8}[0-9A-Z]$/);
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
    expect(atNational.filing?.filingNumber).toBe(filed.filingNumber);
    expect(atNational.filing?.nodeCode).toBe(rows[0].node_code);
    expect(await filingsOf(issued.identifier)).toBe(1);
    // Resolution is case-insensitive and public once filed.
    expect((await resolveAs(providerB, issued.identifier.toLowerCase())).filingNumber).toBe(
      filed.filingNumber,
    );
  });

  it('returns the first identifier when the same request_id is sent twice', async () => {
    const request = issueRequest({
      objectType: ObjectType.OBJECT_TYPE_LINE,
      objectName: 'Line SH-BJ',
    });
    const first = await providerA.api.issueIdentifier(request);
    const second = await providerA.api.issueIdentifier(request);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.identifier?.identifier).toBe(first.identifier?.identifier);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM identifier WHERE idempotency_key = $1`,
      [`${A}:${request.requestId}`],
    );
    expect(rows[0].n).toBe(1);
  });

  it('keeps an identifier pending through a national node outage and a restart, then files it exactly once', async () => {
    await mock.setOutage(true);
    const issued = (
      await providerA.api.issueIdentifier(issueRequest({ objectName: 'outage pool' }))
    ).identifier!;
    const jsm = await nc.jetstreamManager();
    // Attempts are being made and failing (redeliveries), yet the record stays pending.
    await eventually(async () => {
      const info = await jsm.consumers.info('IDENTIFIER', 'identifier-filing');
      return info.num_redelivered > 0 ? true : undefined;
    }, 'filing retries during the outage');
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
      await eventually(async () => {
        const info = await jsm.consumers.info('IDENTIFIER', 'identifier-filing');
        return info.num_ack_pending > 0 || info.num_pending > 0 ? true : undefined;
      }, 'the filing still queued after the restart'),
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
    const owner = `prov-c-${run}`;
    await participantEvent('certified', owner, 'certified', 'under_review');
    const asOwner = identifierClient(identifier.address, await auth.token(['provider'], owner));
    try {
      const one = (await asOwner.api.issueIdentifier(issueRequest())).identifier!;
      const two = (
        await asOwner.api.issueIdentifier(
          issueRequest({ objectType: ObjectType.OBJECT_TYPE_APPLICATION_SERVICE }),
        )
      ).identifier!;
      await until(one.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      await until(two.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      await operator.api.suspendIdentifier({
        identifier: two.identifier,
        reason: 'misleading name',
      });

      await participantEvent('suspended', owner, 'suspended', 'certified');
      const cascaded = await until(one.identifier, IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      expect(cascaded.suspensionCause).toBe(SuspensionCause.SUSPENSION_CAUSE_OWNER_SUSPENDED);
      expect(cascaded.transitions.at(-1)?.actor).toBe('system:participant-events');
      const blocked = await expectGrpcError(
        asOwner.api.issueIdentifier(issueRequest()),
        GrpcStatus.FAILED_PRECONDITION,
      );
      expect(blocked.status?.errorInfo?.metadata.current_state).toBe('SUSPENDED');

      await participantEvent('reinstated', owner, 'certified', 'suspended');
      await until(one.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      const stillSuspended = await resolveAs(operator, two.identifier);
      expect(stillSuspended.state).toBe(IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      expect(stillSuspended.suspensionCause).toBe(SuspensionCause.SUSPENSION_CAUSE_OPERATOR);
    } finally {
      asOwner.close();
    }
  }, 60_000);

  it("suspends a revoked owner's identifiers for good", async () => {
    const owner = `prov-d-${run}`;
    await participantEvent('certified', owner, 'certified', 'under_review');
    const asOwner = identifierClient(identifier.address, await auth.token(['provider'], owner));
    try {
      const issued = (await asOwner.api.issueIdentifier(issueRequest())).identifier!;
      await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_FILED);
      await participantEvent('revoked', owner, 'revoked', 'certified');
      const revoked = await until(issued.identifier, IdentifierState.IDENTIFIER_STATE_SUSPENDED);
      expect(revoked.suspensionCause).toBe(SuspensionCause.SUSPENSION_CAUSE_OWNER_REVOKED);
      const reinstate = await expectGrpcError(
        operator.api.reinstateIdentifier({ identifier: issued.identifier, reason: 'try' }),
        GrpcStatus.FAILED_PRECONDITION,
      );
      expect(reinstate.status?.errorInfo?.reason).toBe('OWNER_NOT_ACTIVE');
    } finally {
      asOwner.close();
    }
  }, 60_000);

  it('refuses uncertified participants, issuing for others, and illegal transitions', async () => {
    const stranger = identifierClient(
      identifier.address,
      await auth.token(['provider'], `stranger-${run}`),
    );
    try {
      const notCertified = await expectGrpcError(
        stranger.api.issueIdentifier(issueRequest()),
        GrpcStatus.FAILED_PRECONDITION,
      );
      expect(notCertified.status?.errorInfo?.reason).toBe('OWNER_NOT_CERTIFIED');
    } finally {
      stranger.close();
    }
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
});
