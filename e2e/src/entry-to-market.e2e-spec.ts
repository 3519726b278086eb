import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type Metadata } from '@grpc/grpc-js';
import {
  IdentifierState,
  ObjectType,
  SuspensionCause,
  type Identifier,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import {
  ParticipantKind,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { expectGrpcError } from '@cinode/testing';
import { creditCodeWithWrongCheck, validCreditCode } from './support/fixtures';
import { SETTLE_MS, issueResourcePool, organisation, registerAndCertify } from './support/market';
import {
  E2E_CLOCK_TOLERANCE_SECONDS,
  KeyHolder,
  as,
  counterValue,
  startNode,
  type NodeClients,
  type NodeUnderTest,
} from './support/node-processes';
import { pollUntil, statusOf } from './support/waiting';

/**
 * Issue 3, "Done when": the entry-to-market flow through gRPC only, against the BUILT service
 * center, identifier service and national node mock running as processes. An operator certifies a
 * compute provider, the provider exchanges its key for a token and issues an identifier for a
 * resource pool, and the identifier is filed at the national node mock; then revocation, access
 * rules, validation, idempotency and a national node outage.
 */

/**
 * Token lifetime: the service center's minimum (TOKEN_TTL_SECONDS accepts 30 to 3600), so the
 * revocation test waits up to about 30 s for a pre-revocation token to expire.
 */
const TOKEN_TTL_SECONDS = 30;
/** What every service allows for clock skew past `exp` (the e2e node's AUTH_JWT_CLOCK_TOLERANCE_SECONDS). */
const CLOCK_TOLERANCE_SECONDS = E2E_CLOCK_TOLERANCE_SECONDS;

let node: NodeUnderTest;
let api: NodeClients;
let operator: KeyHolder;

/** What the demo flow produced, for the checks that follow it. */
const provider = {
  id: '',
  name: '',
  creditCode: '',
  apiKey: '',
  keyPrefix: '',
  /** The identifier of its resource pool, filed in the first test. */
  identifier: '',
  filingNumber: '',
  /** The identifier issued during the national node outage. */
  outageIdentifier: '',
};

async function resolveAsOperator(identifier: string): Promise<Identifier> {
  const { identifier: record } = await api.identifiers.resolveIdentifier(
    { identifier },
    await operator.options(),
  );
  return record!;
}

/** Call options of an operator at the national node: a token minted for its audience. */
async function nationalOperator(): Promise<{ metadata: Metadata }> {
  return as(await node.nationalToken(['operator']));
}

/** Every filing the national node mock holds for this identifier (all pages of the node's filings). */
async function filingsAtNationalNode(identifier: string): Promise<{ filingNumber: string }[]> {
  const nodeCode = identifier.split('.')[1];
  const found: { filingNumber: string }[] = [];
  let pageToken = '';
  do {
    const page = await api.national.listIdentifierFilings(
      { nodeCode, pageSize: 500, pageToken },
      await nationalOperator(),
    );
    found.push(...page.filings.filter((f) => f.identifier === identifier));
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return found;
}

async function setOutage(outage: boolean): Promise<void> {
  const { faults } = await api.nationalAdmin.setFaultInjection(
    { faults: { unavailableRatio: 0, addedLatency: { seconds: 0, nanos: 0 }, outage } },
    await nationalOperator(),
  );
  expect(faults?.outage).toBe(outage);
}

beforeAll(async () => {
  node = await startNode({ tokenTtlSeconds: TOKEN_TTL_SECONDS });
  api = node.clients;
  operator = new KeyHolder(api.tokens, node.operatorBootstrapKey);
}, 120_000);

afterAll(async () => {
  if (!node) return;
  const codes = await node.stop();
  // Every service of the node stopped cleanly.
  expect(Object.entries(codes).filter(([, code]) => code !== 0)).toEqual([]);
  expect(Object.keys(codes)).toContain('identifier');
}, 30_000);

describe('entry to market (issue 3)', () => {
  it('an operator certifies a provider, whose resource-pool identifier is filed at the national node', async () => {
    // The bootstrap operator exchanges its install-time key for a token.
    const operatorToken = await api.tokens.issueToken({ apiKey: node.operatorBootstrapKey });
    expect(operatorToken.roles).toEqual(['operator']);

    // A compute provider registers (no token needed) and is reviewed and certified.
    provider.name = `East China Compute Co. ${randomUUID().slice(0, 8)}`;
    provider.creditCode = validCreditCode();
    const certified = await registerAndCertify(
      api,
      operator,
      organisation(
        ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
        provider.name,
        provider.creditCode,
      ),
    );
    provider.id = certified.id;
    provider.apiKey = certified.apiKey;
    provider.keyPrefix = certified.keyPrefix;
    expect(provider.apiKey).toMatch(/^cin_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/);
    expect(provider.apiKey.slice(4, 12)).toBe(provider.keyPrefix);

    // The provider exchanges its key for a token carrying its id and role.
    const providerToken = await api.tokens.issueToken({ apiKey: provider.apiKey });
    expect(providerToken.participantId).toBe(provider.id);
    expect(providerToken.roles).toEqual(['provider']);

    // It issues an identifier for a resource pool it owns.
    const issued = await issueResourcePool(
      api,
      providerToken.accessToken,
      provider,
      'Shanghai GPU pool A',
    );
    expect(issued.ownerParticipantId).toBe(provider.id);
    expect(issued.objectType).toBe(ObjectType.OBJECT_TYPE_RESOURCE_POOL);
    expect(issued.identifier).toMatch(/^[A-Z]{2,8}\.[RI]\d{4}\.RP\.\d{8}[0-9A-Z]$/);
    provider.identifier = issued.identifier;

    // The call was traced although no exporter is configured: its audit record (written inside
    // the call, like every log line there) carries a real trace id, not the no-op 000…0.
    const { records } = await api.identifierAudit.listAuditRecords(
      {
        method: '/cinode.identifier.v1.IdentifierService/IssueIdentifier',
        actor: provider.id,
        pageSize: 0,
        pageToken: '',
        objectType: '',
        objectId: '',
        outcome: '',
        startTime: undefined,
        endTime: undefined,
      },
      as(operatorToken.accessToken),
    );
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(record.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(record.traceId).not.toBe('0'.repeat(32));
    }

    // Filing happens asynchronously; resolution (in any letter case) shows it filed.
    const { value: filed } = await pollUntil(
      `${issued.identifier} to be filed`,
      async () =>
        (
          await api.identifiers.resolveIdentifier(
            { identifier: issued.identifier.toLowerCase() },
            as(providerToken.accessToken),
          )
        ).identifier!,
      (record) => record.state === IdentifierState.IDENTIFIER_STATE_FILED,
      SETTLE_MS,
    );
    expect(filed.filingNumber).not.toBe('');
    expect(filed.filedAt).toBeDefined();
    provider.filingNumber = filed.filingNumber;

    // The national node mock has exactly that one filing. The operator's node token is refused
    // there (it names the node's audience); a token minted for the national node reads it.
    const refused = await expectGrpcError(
      api.national.getIdentifierFiling(
        { identifier: issued.identifier },
        as(operatorToken.accessToken),
      ),
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(refused.status?.errorInfo?.reason).toBe('TOKEN_AUDIENCE_MISMATCH');
    const { filing } = await api.national.getIdentifierFiling(
      { identifier: issued.identifier },
      await nationalOperator(),
    );
    expect(filing).toMatchObject({
      filingNumber: filed.filingNumber,
      identifier: issued.identifier,
      objectName: 'Shanghai GPU pool A',
      ownerName: provider.name,
      ownerCreditCode: provider.creditCode,
    });
    expect(await filingsAtNationalNode(issued.identifier)).toEqual([
      expect.objectContaining({ filingNumber: filed.filingNumber }),
    ]);

    // No exporter is configured, yet the trace went on: from the IssueIdentifier call through the
    // outbox and the filing consumer to the national node mock, whose audit record of the filing
    // carries the same trace id.
    const issuedIn = new Set(records.filter((r) => r.outcome === 'OK').map((r) => r.traceId));
    const { records: filings } = await api.nationalAudit.listAuditRecords(
      {
        method: '/cinode.national.v1.NationalNodeService/FileIdentifier',
        actor: '',
        pageSize: 0,
        pageToken: '',
        objectType: 'identifier',
        objectId: issued.identifier,
        outcome: 'OK',
        startTime: undefined,
        endTime: undefined,
      },
      await nationalOperator(),
    );
    expect(filings.length).toBeGreaterThan(0);
    expect(filings.some((r) => issuedIn.has(r.traceId))).toBe(true);
  }, 60_000);

  it('a provider calling an operator RPC gets PERMISSION_DENIED', async () => {
    const { accessToken } = await api.tokens.issueToken({ apiKey: provider.apiKey });
    const denied = await expectGrpcError(
      api.certification.suspendParticipant(
        { participantId: provider.id, reason: 'trying to act as an operator' },
        as(accessToken),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(denied.status?.errorInfo?.reason).toBe('ROLE_NOT_ALLOWED');
    await expectGrpcError(
      api.tokens.rotateSigningKey({ requestId: randomUUID() }, as(accessToken)),
      GrpcStatus.PERMISSION_DENIED,
    );
    await expectGrpcError(
      api.identifiers.suspendIdentifier(
        { identifier: provider.identifier, reason: 'not mine to suspend' },
        as(accessToken),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    // At the national node a node token is no token at all.
    await expectGrpcError(
      api.nationalAdmin.setFaultInjection(
        { faults: { unavailableRatio: 0, addedLatency: { seconds: 0, nanos: 0 }, outage: true } },
        as(accessToken),
      ),
      GrpcStatus.UNAUTHENTICATED,
    );
  }, 30_000);

  it("a reseller cannot read another participant's records", async () => {
    const reseller = await registerAndCertify(
      api,
      operator,
      organisation(
        ParticipantKind.PARTICIPANT_KIND_RESELLER,
        `Compute Resale Ltd. ${randomUUID().slice(0, 8)}`,
      ),
    );
    const { accessToken, roles } = await api.tokens.issueToken({ apiKey: reseller.apiKey });
    expect(roles).toEqual(['reseller']);
    const mine = as(accessToken);

    // Its own record, yes.
    const self = await api.participants.getParticipant({ participantId: reseller.id }, mine);
    expect(self.participant?.id).toBe(reseller.id);

    // The provider's: denied, and the same answer as for an id that does not exist.
    const denied = await expectGrpcError(
      api.participants.getParticipant({ participantId: provider.id }, mine),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(denied.status?.errorInfo?.reason).toBe('NOT_OWN_RECORD');
    const unknown = await expectGrpcError(
      api.participants.getParticipant({ participantId: randomUUID() }, mine),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(unknown.status?.errorInfo?.reason).toBe('NOT_OWN_RECORD');
    await expectGrpcError(
      api.certification.listCertificationEvents(
        { participantId: provider.id, pageSize: 0, pageToken: '' },
        mine,
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    await expectGrpcError(
      api.apiKeys.listApiKeys({ participantId: provider.id, pageSize: 0, pageToken: '' }, mine),
      GrpcStatus.PERMISSION_DENIED,
    );
    await expectGrpcError(
      api.identifiers.listIdentifiers(
        {
          ownerParticipantId: provider.id,
          objectType: ObjectType.OBJECT_TYPE_UNSPECIFIED,
          state: IdentifierState.IDENTIFIER_STATE_UNSPECIFIED,
          pageSize: 0,
          pageToken: '',
        },
        mine,
      ),
      GrpcStatus.PERMISSION_DENIED,
    );

    // Listing shows only itself, never the provider.
    const listed = await api.participants.listParticipants(
      {
        pageSize: 0,
        pageToken: '',
        kind: ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED,
        state: ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
        nameContains: '',
      },
      mine,
    );
    expect(listed.participants.map((p) => p.id)).toEqual([reseller.id]);
    const identifiers = await api.identifiers.listIdentifiers(
      {
        ownerParticipantId: '',
        objectType: ObjectType.OBJECT_TYPE_UNSPECIFIED,
        state: IdentifierState.IDENTIFIER_STATE_UNSPECIFIED,
        pageSize: 0,
        pageToken: '',
      },
      mine,
    );
    expect(identifiers.identifiers).toEqual([]);
  }, 30_000);

  it('a bad credit code is INVALID_ARGUMENT naming the field', async () => {
    const request = organisation(
      ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
      'Wrong Check Character Co.',
      creditCodeWithWrongCheck(),
    );
    const error = await expectGrpcError(
      api.participants.createParticipant(request),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations).toEqual([
      expect.objectContaining({ field: 'organization.credit_code' }),
    ]);

    const malformed = await expectGrpcError(
      api.participants.createParticipant({
        ...request,
        organization: { ...request.organization!, creditCode: 'NOT-A-CREDIT-CODE' },
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(malformed.status?.fieldViolations.map((v) => v.field)).toEqual([
      'organization.credit_code',
    ]);
  }, 30_000);

  it('the same request_id twice creates one participant', async () => {
    const name = `Idempotent Compute Co. ${randomUUID().slice(0, 8)}`;
    const request = organisation(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER, name);
    const first = await api.participants.createParticipant(request);
    const second = await api.participants.createParticipant(request);
    expect(second.participant?.id).toBe(first.participant?.id);

    // Two at once with a fresh request_id: still one.
    const racedName = `Raced Compute Co. ${randomUUID().slice(0, 8)}`;
    const raced = organisation(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER, racedName);
    const [a, b] = await Promise.all([
      api.participants.createParticipant(raced),
      api.participants.createParticipant(raced),
    ]);
    expect(b.participant?.id).toBe(a.participant?.id);

    for (const [text, id] of [
      [name, first.participant!.id],
      [racedName, a.participant!.id],
    ]) {
      const listed = await api.participants.listParticipants(
        {
          pageSize: 0,
          pageToken: '',
          kind: ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED,
          state: ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
          nameContains: text,
        },
        await operator.options(),
      );
      expect(listed.participants.map((p) => p.id)).toEqual([id]);
    }
  }, 30_000);

  it('with the national node in full outage an identifier stays pending filing, and is filed exactly once after recovery', async () => {
    const { accessToken } = await api.tokens.issueToken({ apiKey: provider.apiKey });
    const refusedFilings = () =>
      counterValue(node.nationalNode.metricsPort, 'grpc_server_handled_total', {
        grpc_method: 'FileIdentifier',
        grpc_code: 'UNAVAILABLE',
      });
    const refusedBefore = await refusedFilings();

    await setOutage(true);
    try {
      const issued = await issueResourcePool(
        api,
        accessToken,
        provider,
        'Shanghai GPU pool B (outage)',
      );
      expect(issued.state).toBe(IdentifierState.IDENTIFIER_STATE_PENDING_FILING);
      provider.outageIdentifier = issued.identifier;

      // Wait until the identifier service has tried to file it (and been refused) at least twice.
      await pollUntil(
        'two refused FileIdentifier calls at the national node mock',
        refusedFilings,
        (count) => count >= refusedBefore + 2,
        SETTLE_MS,
      );
      const pending = await resolveAsOperator(issued.identifier);
      expect(pending.state).toBe(IdentifierState.IDENTIFIER_STATE_PENDING_FILING);
      expect(pending.filingNumber).toBe('');
      expect(pending.filingError).toBe('');
      // The national node answers nothing at all meanwhile, reads included.
      await expectGrpcError(
        api.national.getIdentifierFiling(
          { identifier: issued.identifier },
          await nationalOperator(),
        ),
        GrpcStatus.UNAVAILABLE,
      );
    } finally {
      await setOutage(false);
    }

    const { value: filed, elapsedMs } = await pollUntil(
      `${provider.outageIdentifier} to be filed after recovery`,
      () => resolveAsOperator(provider.outageIdentifier),
      (record) => record.state === IdentifierState.IDENTIFIER_STATE_FILED,
      SETTLE_MS,
    );
    expect(filed.filingNumber).not.toBe('');
    console.info(`filed ${elapsedMs} ms after the outage ended`);
    const filings = await filingsAtNationalNode(provider.outageIdentifier);
    expect(filings).toEqual([expect.objectContaining({ filingNumber: filed.filingNumber })]);
  }, 60_000);

  it('revoking the provider suspends its identifiers and stops its key and tokens (UNAUTHENTICATED)', async () => {
    const { accessToken: existing } = await api.tokens.issueToken({ apiKey: provider.apiKey });
    const existingOptions = as(existing);
    // The token works before the revocation.
    await api.participants.getParticipant({ participantId: provider.id }, existingOptions);

    const revokedAt = Date.now();
    const { participant } = await api.certification.revokeParticipant(
      { participantId: provider.id, reason: 'licence withdrawn by the regulator' },
      await operator.options(),
    );
    expect(participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_REVOKED);

    // Its key no longer gets a token, at once.
    await expectGrpcError(
      api.tokens.issueToken({ apiKey: provider.apiKey }),
      GrpcStatus.UNAUTHENTICATED,
    );

    // Its identifiers are suspended (through the participant.revoked event).
    for (const identifier of [provider.identifier, provider.outageIdentifier]) {
      const { value: suspended } = await pollUntil(
        `${identifier} to be suspended`,
        () => resolveAsOperator(identifier),
        (record) => record.state === IdentifierState.IDENTIFIER_STATE_SUSPENDED,
        SETTLE_MS,
      );
      expect(suspended.suspensionCause).toBe(SuspensionCause.SUSPENSION_CAUSE_OWNER_REVOKED);
      expect(suspended.filingNumber).not.toBe('');
    }

    // The token issued before the revocation stops working within its lifetime, at every service.
    const { elapsedMs } = await pollUntil(
      'the provider token issued before the revocation to be refused',
      async () => [
        await statusOf(
          api.participants.getParticipant({ participantId: provider.id }, existingOptions),
        ),
        await statusOf(
          api.identifiers.resolveIdentifier({ identifier: provider.identifier }, existingOptions),
        ),
      ],
      (codes) => codes.every((code) => code === GrpcStatus.UNAUTHENTICATED),
      (TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS) * 1000 + 5_000,
    );
    console.info(
      `pre-revocation token refused everywhere ${elapsedMs} ms after polling began, ` +
        `${Date.now() - revokedAt} ms after the revocation (TOKEN_TTL_SECONDS=${TOKEN_TTL_SECONDS})`,
    );
    const expired = await expectGrpcError(
      api.participants.getParticipant({ participantId: provider.id }, existingOptions),
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(expired.status?.errorInfo?.reason).toBe('TOKEN_EXPIRED');
    await expectGrpcError(
      api.identifiers.issueIdentifier(
        {
          requestId: randomUUID(),
          objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
          objectName: 'after revocation',
          ownerParticipantId: '',
          ownerName: provider.name,
          ownerCreditCode: '',
          attributes: {},
        },
        existingOptions,
      ),
      GrpcStatus.UNAUTHENTICATED,
    );
  }, 90_000);
});
