import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import {
  ParticipantCertified,
  PoolRegistered,
  QUARANTINE_BUCKET,
  RiskChanged,
  type PoolData,
  type RiskChangedData,
} from '@cinode/contracts';
import { decodeEnvelope } from '@cinode/events';
import { toTimestamp, type GrpcClient } from '@cinode/grpc';
import {
  AssetKind,
  AttackEventState,
  FindingStatus,
  HandlingStatus,
  QuarantineState,
  RiskLevel,
  Severity,
  SubjectKind,
  type AttackEventInput,
  type SecurityServiceClient,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import {
  bearer,
  createTestAuth,
  createTestDatabase,
  EventPublisher,
  eventually,
  expectGrpcError,
  startTestNats,
  type ExpectedGrpcError,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import { connect, type NatsConnection } from 'nats';
import { securityClient, startSecurity, type SecurityUnderTest } from './security-harness';

let nats: TestNats;
let auth: TestAuth;
let security: SecurityUnderTest;
let client: GrpcClient<SecurityServiceClient>;
let events: EventPublisher;
let nc: NatsConnection;
let operator: string;
let regulator: string;
const providerId = randomUUID();
const otherProviderId = randomUUID();
let provider: string;
let otherProvider: string;
let scannedProvider: string;
const poolId = `RP-${randomUUID().slice(0, 8)}`;
const otherPoolId = `RP-${randomUUID().slice(0, 8)}`;
/** When every test attack happened. */
const ATTACK_TIME = new Date(Date.now() - 60_000);
/** A pool of a provider no attack names: its risk comes from its findings alone. */
const scannedProviderId = randomUUID();
const scannedPoolId = `RP-${randomUUID().slice(0, 8)}`;
/** Risk events seen on the SECURITY stream, by subject. */
const riskEvents: RiskChangedData[] = [];

function pool(id: string, owner: string): PoolData {
  return {
    poolId: id,
    version: 1,
    providerParticipantId: owner,
    name: `pool ${id}`,
    poolClass: 'A',
    site: 'site-1',
    regionCode: '310000',
    accelerators: [{ kind: 'GPU', model: 'A100', domestic: false }],
    securityLevel: 3,
    datacenterTier: 3,
    pue: 1.3,
    renewableRatio: 0.4,
    gflopsPerWatt: 20,
    price: {
      cpuCoreHourFen: 10,
      gpuCardHourFen: 1000,
      npuCardHourFen: 800,
      memoryGibHourFen: 1,
      storageGibHourFen: 1,
    },
    state: 'pending_filing',
    inventory: null,
    inventorySequence: 0,
    held: { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
    lastReportedAt: null,
  };
}

function certified(participantId: string) {
  return {
    participantId,
    version: 3,
    kind: 'COMPUTE_PROVIDER' as const,
    state: 'CERTIFIED' as const,
    previousState: 'UNDER_REVIEW' as const,
    legalName: 'Example Compute Ltd.',
    creditCode: '91310000MA1FL0000X',
    reason: '',
    actor: 'op-1',
  };
}

function attack(eventId: string, overrides: Partial<AttackEventInput> = {}): AttackEventInput {
  return {
    eventId,
    attackTime: toTimestamp(ATTACK_TIME),
    attackerIp: '203.0.113.7',
    targetIp: '2001:db8::1',
    attackMethod: 'DDoS',
    attackedAssetType: 'API gateway',
    ongoing: true,
    description: 'SYN flood against the southbound API',
    handlingStatus: HandlingStatus.HANDLING_STATUS_DETECTED,
    severity: Severity.SEVERITY_HIGH,
    poolId: '',
    ...overrides,
  };
}

/** A SARIF 2.1.0 log with one result per severity given (CVSS scores as security-severity). */
function sarif(tool: string, results: { rule: string; cvss: number }[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: '2.1.0',
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      runs: [
        {
          tool: {
            driver: {
              name: tool,
              version: '1.0.0',
              rules: results.map((r) => ({
                id: r.rule,
                shortDescription: { text: `${r.rule} found` },
                properties: { 'security-severity': String(r.cvss) },
              })),
            },
          },
          results: results.map((r, i) => ({
            ruleId: r.rule,
            ruleIndex: i,
            level: 'error',
            message: { text: `${r.rule} in libexample` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: 'usr/lib/libexample.so' },
                  region: { startLine: 1 },
                },
              },
            ],
          })),
        },
      ],
    }),
  );
}

const as = (token: string) => ({ metadata: bearer(token) });
const fieldsOf = (error: ExpectedGrpcError) =>
  error.status?.fieldViolations.map((v) => v.field) ?? [];
const reasonOf = (error: ExpectedGrpcError) => error.status?.errorInfo?.reason;
/** Retries assertions until they hold (bounded). */
const until = (what: string, check: () => unknown, timeoutMs = 15_000) =>
  eventually(
    what,
    async () => {
      await check();
      return true;
    },
    timeoutMs,
  );

async function riskOf(kind: SubjectKind, id: string) {
  return (await client.api.getRisk({ subjectKind: kind, subjectId: id }, as(operator))).risk!;
}

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  events = await EventPublisher.connect(nats.url);
  security = await startSecurity(await createTestDatabase('security'), auth, nats.url);
  client = securityClient(security.address);
  operator = await auth.token(['operator'], 'op-1');
  regulator = await auth.token(['regulator'], 'reg-1');
  provider = await auth.token(['provider'], providerId);
  otherProvider = await auth.token(['provider'], otherProviderId);
  scannedProvider = await auth.token(['provider'], scannedProviderId);
  await events.publish('service-center', ParticipantCertified, certified(providerId));
  await events.publish('service-center', ParticipantCertified, certified(otherProviderId));
  await events.publish('service-center', ParticipantCertified, certified(scannedProviderId));
  await events.publish('resource-aggregation', PoolRegistered, pool(poolId, providerId));
  await events.publish('resource-aggregation', PoolRegistered, pool(otherPoolId, otherProviderId));
  await events.publish(
    'resource-aggregation',
    PoolRegistered,
    pool(scannedPoolId, scannedProviderId),
  );
  nc = await connect({ servers: nats.url });
  const sub = nc.subscribe(RiskChanged.type);
  void (async () => {
    for await (const message of sub)
      riskEvents.push(decodeEnvelope(message.data).data as RiskChangedData);
  })();
  // The projections have the pools once an event naming one is accepted.
  await until(
    'the pools known',
    async () => {
      await client.api.submitAttackEvents(
        { events: [attack('warm-up', { poolId })] },
        as(provider),
      );
    },
    15_000,
  );
}, 90_000);

afterAll(async () => {
  client?.close();
  await nc?.drain();
  await events?.close();
  await security?.stop();
  await nats?.stop();
});

describe('attack events', () => {
  it('refuses bad events field by field and records nothing', async () => {
    const future = toTimestamp(new Date(Date.now() + 3_600_000));
    const error = await expectGrpcError(
      client.api.submitAttackEvents(
        {
          events: [
            attack('bad-1', { attackerIp: '999.1.1.1' }),
            attack('bad-2', { targetIp: 'fe80::1%eth0<script>' }),
            attack('bad-3', { attackTime: future }),
            attack('bad-4', { severity: Severity.SEVERITY_UNSPECIFIED }),
            attack('bad-1'),
            attack('bad-6', { poolId: otherPoolId }),
          ],
        },
        as(provider),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    const fields = fieldsOf(error);
    expect(fields).toEqual(
      expect.arrayContaining([
        'events[0].attacker_ip',
        'events[1].target_ip',
        'events[2].attack_time',
        'events[3].severity',
        'events[4].event_id',
      ]),
    );
    const refusedPool = await expectGrpcError(
      client.api.submitAttackEvents(
        { events: [attack('bad-6', { poolId: otherPoolId })] },
        as(provider),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(fieldsOf(refusedPool)).toEqual(['events[0].pool_id']);
    const { events: listed } = await client.api.listAttackEvents(
      { source: providerId, pageSize: 100, pageToken: '' } as never,
      as(operator),
    );
    expect(listed.map((e) => e.event!.eventId)).not.toContain('bad-6');
  });

  it('records new events, de-duplicates by reporter and event id, updates what may change', async () => {
    const first = await client.api.submitAttackEvents(
      { events: [attack('ae-1'), attack('ae-2', { poolId })] },
      as(provider),
    );
    expect(first.results.map((r) => [r.eventId, r.created, r.updated])).toEqual([
      ['ae-1', true, false],
      ['ae-2', true, false],
    ]);
    const again = await client.api.submitAttackEvents({ events: [attack('ae-1')] }, as(provider));
    expect(again.results[0]).toMatchObject({ created: false, updated: false });
    expect(again.results[0].securityEventId).toBe(first.results[0].securityEventId);
    const ended = await client.api.submitAttackEvents(
      {
        events: [
          attack('ae-1', {
            ongoing: false,
            handlingStatus: HandlingStatus.HANDLING_STATUS_MITIGATED,
          }),
        ],
      },
      as(provider),
    );
    expect(ended.results[0]).toMatchObject({ created: false, updated: true });
    // Another reporter's event with the same id is another event.
    const other = await client.api.submitAttackEvents(
      { events: [attack('ae-1')] },
      as(otherProvider),
    );
    expect(other.results[0].created).toBe(true);
    const conflict = await expectGrpcError(
      client.api.submitAttackEvents(
        { events: [attack('ae-1', { attackerIp: '198.51.100.1' })] },
        as(provider),
      ),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(reasonOf(conflict)).toBe('EVENT_ID_CONFLICT');

    // A provider lists only what it reported.
    const own = await client.api.listAttackEvents(
      { source: '', pageSize: 100, pageToken: '' } as never,
      as(otherProvider),
    );
    expect(own.events.map((e) => e.source)).toEqual([otherProviderId]);
    const all = await client.api.listAttackEvents(
      { pageSize: 100, pageToken: '' } as never,
      as(regulator),
    );
    const mine = all.events.find((e) => e.securityEventId === first.results[0].securityEventId)!;
    expect(mine.event).toMatchObject({
      ongoing: false,
      handlingStatus: HandlingStatus.HANDLING_STATUS_MITIGATED,
    });
    expect(mine.version).toBe(2);
    expect(mine.participantId).toBe(providerId);
  });

  it("refuses a reporter's events beyond its daily quota, recording none of the call", async () => {
    const noisyId = randomUUID();
    const noisy = await auth.token(['provider'], noisyId);
    const batch = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => attack(`noisy-${from + i}`));
    await client.api.submitAttackEvents({ events: batch(0, 45) }, as(noisy));
    const refused = await expectGrpcError(
      client.api.submitAttackEvents({ events: batch(45, 10) }, as(noisy)),
      GrpcStatus.RESOURCE_EXHAUSTED,
    );
    expect(reasonOf(refused)).toBe('ATTACK_EVENT_QUOTA_EXCEEDED');
    // Sending known events again costs nothing; the last new places are still there.
    await client.api.submitAttackEvents({ events: batch(40, 10) }, as(noisy));
    const { events } = await client.api.listAttackEvents(
      { source: '', pageSize: 200, pageToken: '' } as never,
      as(noisy),
    );
    expect(events).toHaveLength(50);
  });

  it('moves an event through its handling and refuses a wrong step', async () => {
    const { results } = await client.api.submitAttackEvents(
      { events: [attack('ae-flow')] },
      as(provider),
    );
    const id = results[0].securityEventId;
    const skip = await expectGrpcError(
      client.api.transitionAttackEvent(
        {
          securityEventId: id,
          targetState: AttackEventState.ATTACK_EVENT_STATE_MITIGATING,
          note: '',
          expectedVersion: 0,
        },
        as(operator),
      ),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(reasonOf(skip)).toBe('INVALID_TRANSITION');
    for (const target of [
      AttackEventState.ATTACK_EVENT_STATE_ACKNOWLEDGED,
      AttackEventState.ATTACK_EVENT_STATE_MITIGATING,
      AttackEventState.ATTACK_EVENT_STATE_RESOLVED,
    ])
      await client.api.transitionAttackEvent(
        { securityEventId: id, targetState: target, note: 'handled', expectedVersion: 0 },
        as(operator),
      );
    const stale = await expectGrpcError(
      client.api.transitionAttackEvent(
        {
          securityEventId: id,
          targetState: AttackEventState.ATTACK_EVENT_STATE_FALSE_POSITIVE,
          note: '',
          expectedVersion: 1,
        },
        as(operator),
      ),
      GrpcStatus.ABORTED,
    );
    expect(reasonOf(stale)).toBe('VERSION_MISMATCH');
    await expectGrpcError(
      client.api.transitionAttackEvent(
        {
          securityEventId: id,
          targetState: AttackEventState.ATTACK_EVENT_STATE_ACKNOWLEDGED,
          note: '',
          expectedVersion: 0,
        },
        as(provider),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
  });
});

describe('findings and risk', () => {
  it('caps a pool at level 1 on a critical finding and gives its level back when it is fixed', async () => {
    const imported = await client.api.importFindings(
      {
        asset: { kind: AssetKind.ASSET_KIND_POOL, id: scannedPoolId },
        document: sarif('Trivy', [{ rule: 'CVE-2024-3094', cvss: 10 }]),
        completeScan: false,
      },
      as(operator),
    );
    expect(imported).toMatchObject({ opened: 1, refreshed: 0 });
    const risk = await riskOf(SubjectKind.SUBJECT_KIND_POOL, scannedPoolId);
    expect(risk.level).toBe(RiskLevel.RISK_LEVEL_HIGH);
    expect(risk.securityLevelCap).toBe(1);
    await until('the risk event', () =>
      expect(riskEvents.filter((e) => e.subjectId === scannedPoolId).at(-1)).toMatchObject({
        level: 'high',
        securityLevelCap: 1,
      }),
    );
    // Importing the same log again refreshes, never duplicates.
    const again = await client.api.importFindings(
      {
        asset: { kind: AssetKind.ASSET_KIND_POOL, id: scannedPoolId },
        document: sarif('Trivy', [{ rule: 'CVE-2024-3094', cvss: 10 }]),
        completeScan: false,
      },
      as(operator),
    );
    expect(again).toMatchObject({ opened: 0, refreshed: 1 });
    const { findings } = await client.api.listFindings(
      {
        assetKind: AssetKind.ASSET_KIND_POOL,
        assetId: scannedPoolId,
        pageSize: 50,
        pageToken: '',
      } as never,
      as(scannedProvider),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: Severity.SEVERITY_CRITICAL,
      cveIds: ['CVE-2024-3094'],
    });
    // Another provider does not see it.
    const hidden = await client.api.listFindings(
      { pageSize: 50, pageToken: '' } as never,
      as(otherProvider),
    );
    expect(hidden.findings).toEqual([]);

    await client.api.updateFindingStatus(
      {
        findingId: findings[0].findingId,
        status: FindingStatus.FINDING_STATUS_MITIGATED,
        acceptedUntil: undefined,
        note: 'patched',
        expectedVersion: 0,
      },
      as(operator),
    );
    const after = await riskOf(SubjectKind.SUBJECT_KIND_POOL, scannedPoolId);
    expect(after.securityLevelCap).toBe(0);
    expect(after.level).not.toBe(RiskLevel.RISK_LEVEL_HIGH);
  });

  it('refuses a document that is not SARIF, naming the path, and an unknown asset', async () => {
    const bad = await expectGrpcError(
      client.api.importFindings(
        {
          asset: { kind: AssetKind.ASSET_KIND_POOL, id: poolId },
          document: Buffer.from('{"version":"2.0.0","runs":[]}'),
          completeScan: false,
        },
        as(operator),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(fieldsOf(bad)).toContain('document.version');
    const unknown = await expectGrpcError(
      client.api.importFindings(
        {
          asset: { kind: AssetKind.ASSET_KIND_POOL, id: 'RP-NOPE' },
          document: sarif('Trivy', []),
          completeScan: false,
        },
        as(operator),
      ),
      GrpcStatus.NOT_FOUND,
    );
    expect(reasonOf(unknown)).toBe('ASSET_NOT_FOUND');
  });

  it('closes what a complete re-scan no longer finds, re-rates what changed and reopens what is found again, in bulk', async () => {
    const asset = { kind: AssetKind.ASSET_KIND_NODE_SERVICE, id: 'reporting' };
    const rules = Array.from({ length: 1_200 }, (_, i) => ({ rule: `bulk-rule-${i}`, cvss: 5 }));
    const list = async () => {
      const all: Awaited<ReturnType<typeof client.api.listFindings>>['findings'] = [];
      let pageToken = '';
      do {
        const page = await client.api.listFindings(
          { assetKind: asset.kind, assetId: asset.id, pageSize: 500, pageToken } as never,
          as(operator),
        );
        all.push(...page.findings);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return new Map(all.map((f) => [f.title, f]));
    };
    expect(
      await client.api.importFindings(
        { asset, document: sarif('Bulk', rules), completeScan: true },
        as(operator),
      ),
    ).toMatchObject({ opened: 1_200, refreshed: 0, mitigated: 0 });
    // The next complete scan finds the first 200 only, one of them rated critical now.
    const kept = rules.slice(0, 200).map((r, i) => (i === 0 ? { ...r, cvss: 9.8 } : r));
    expect(
      await client.api.importFindings(
        { asset, document: sarif('Bulk', kept), completeScan: true },
        as(operator),
      ),
    ).toMatchObject({ opened: 0, refreshed: 200, mitigated: 1_000 });
    let findings = await list();
    expect(findings.get('bulk-rule-0 found')).toMatchObject({
      severity: Severity.SEVERITY_CRITICAL,
      status: FindingStatus.FINDING_STATUS_OPEN,
      version: 2,
    });
    expect(findings.get('bulk-rule-1 found')).toMatchObject({
      status: FindingStatus.FINDING_STATUS_OPEN,
      version: 1,
    });
    expect(findings.get('bulk-rule-1199 found')).toMatchObject({
      status: FindingStatus.FINDING_STATUS_MITIGATED,
      version: 2,
    });
    // Found again: the mitigated ones open again.
    expect(
      await client.api.importFindings(
        { asset, document: sarif('Bulk', rules), completeScan: true },
        as(operator),
      ),
    ).toMatchObject({ opened: 1_000, refreshed: 200, mitigated: 0 });
    findings = await list();
    expect(
      [...findings.values()].filter((f) => f.status === FindingStatus.FINDING_STATUS_OPEN),
    ).toHaveLength(1_200);
    expect(findings.get('bulk-rule-1199 found')).toMatchObject({ version: 3 });
  }, 60_000);

  it('reopens a risk acceptance when it lapses', async () => {
    await client.api.importFindings(
      {
        asset: { kind: AssetKind.ASSET_KIND_NODE_SERVICE, id: 'service-center' },
        document: sarif('Semgrep', [{ rule: 'js/sql-injection', cvss: 8 }]),
        completeScan: false,
      },
      as(operator),
    );
    const { findings } = await client.api.listFindings(
      {
        assetKind: AssetKind.ASSET_KIND_NODE_SERVICE,
        assetId: 'service-center',
        pageSize: 10,
        pageToken: '',
      } as never,
      as(operator),
    );
    const accepted = await client.api.updateFindingStatus(
      {
        findingId: findings[0].findingId,
        status: FindingStatus.FINDING_STATUS_RISK_ACCEPTED,
        note: 'compensating WAF rule',
        acceptedUntil: toTimestamp(new Date(Date.now() + 1_500)),
        expectedVersion: 0,
      },
      as(operator),
    );
    expect(accepted.finding!.status).toBe(FindingStatus.FINDING_STATUS_RISK_ACCEPTED);
    await until(
      'the acceptance to lapse',
      async () => {
        const { findings: now } = await client.api.listFindings(
          {
            assetKind: AssetKind.ASSET_KIND_NODE_SERVICE,
            assetId: 'service-center',
            pageSize: 10,
            pageToken: '',
          } as never,
          as(operator),
        );
        expect(now[0].status).toBe(FindingStatus.FINDING_STATUS_OPEN);
      },
      10_000,
    );
  });

  it("quarantines a participant on critical risk, its pools too, and lifts it on an operator's word", async () => {
    await client.api.importFindings(
      {
        asset: { kind: AssetKind.ASSET_KIND_PARTICIPANT, id: otherProviderId },
        document: sarif('ZAP', [
          { rule: 'RCE-1', cvss: 9.8 },
          { rule: 'RCE-2', cvss: 9.1 },
        ]),
        completeScan: false,
      },
      as(operator),
    );
    const risk = await riskOf(SubjectKind.SUBJECT_KIND_PARTICIPANT, otherProviderId);
    expect(risk).toMatchObject({ level: RiskLevel.RISK_LEVEL_CRITICAL, quarantined: true });
    expect((await riskOf(SubjectKind.SUBJECT_KIND_POOL, otherPoolId)).quarantined).toBe(true);
    const { quarantines } = await client.api.listQuarantines(
      { state: QuarantineState.QUARANTINE_STATE_ACTIVE, pageSize: 50, pageToken: '' },
      as(regulator),
    );
    const quarantine = quarantines.find((q) => q.subjectId === otherProviderId)!;
    expect(quarantine.subjectKind).toBe(SubjectKind.SUBJECT_KIND_PARTICIPANT);
    const kv = await nc.jetstream().views.kv(QUARANTINE_BUCKET);
    await until('the bucket key', async () =>
      expect((await kv.get(otherProviderId))?.operation).toBe('PUT'),
    );

    await client.api.confirmQuarantine(
      { quarantineId: quarantine.quarantineId, reason: 'confirmed by SOC' },
      as(operator),
    );
    await expectGrpcError(
      client.api.confirmQuarantine(
        { quarantineId: quarantine.quarantineId, reason: '' },
        as(operator),
      ),
      GrpcStatus.FAILED_PRECONDITION,
    );
    await expectGrpcError(
      client.api.liftQuarantine(
        { quarantineId: quarantine.quarantineId, reason: '' },
        as(operator),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    const lifted = await client.api.liftQuarantine(
      { quarantineId: quarantine.quarantineId, reason: 'vulnerabilities accepted by the operator' },
      as(operator),
    );
    expect(lifted.quarantine!.state).toBe(QuarantineState.QUARANTINE_STATE_LIFTED);
    await until('the bucket key gone', async () =>
      expect((await kv.get(otherProviderId))?.operation).not.toBe('PUT'),
    );
    // Still critical, but no new quarantine until the risk rises to critical again.
    expect(await riskOf(SubjectKind.SUBJECT_KIND_PARTICIPANT, otherProviderId)).toMatchObject({
      level: RiskLevel.RISK_LEVEL_CRITICAL,
      quarantined: false,
    });
    expect((await riskOf(SubjectKind.SUBJECT_KIND_POOL, otherPoolId)).quarantined).toBe(false);
  });
});

describe('endpoints and posture checks', () => {
  let plaintextServer: Server;
  let port: number;

  beforeAll(async () => {
    plaintextServer = new Server();
    port = await new Promise<number>((resolve, reject) =>
      plaintextServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) =>
        error ? reject(error) : resolve(p),
      ),
    );
  });

  afterAll(() => plaintextServer?.forceShutdown());

  it('turns what a check finds into findings on the participant, and closes them with the endpoint', async () => {
    const { endpoint, created } = await client.api.registerEndpoint(
      { participantId: '', address: `127.0.0.1:${port}`, purpose: 'southbound API' },
      as(provider),
    );
    expect(created).toBe(true);
    const again = await client.api.registerEndpoint(
      { participantId: '', address: `127.0.0.1:${port}`, purpose: 'southbound API' },
      as(provider),
    );
    expect(again).toMatchObject({ created: false, endpoint: { endpointId: endpoint!.endpointId } });
    const foreign = await expectGrpcError(
      client.api.registerEndpoint(
        { participantId: otherProviderId, address: 'example.com:443', purpose: '' },
        as(provider),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(reasonOf(foreign)).toBe('NOT_YOUR_PARTICIPANT');
    const badAddress = await expectGrpcError(
      client.api.registerEndpoint(
        { participantId: '', address: 'https://example.com/x', purpose: '' },
        as(provider),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(fieldsOf(badAddress)).toEqual(['address']);

    const checked = await client.api.runPostureCheck(
      { endpointId: endpoint!.endpointId },
      as(operator),
    );
    expect(checked.endpoint!.lastResult!.reachable).toBe(true);
    const checks = checked.endpoint!.lastResult!.issues.map((i) => i.check);
    expect(checks).toEqual(expect.arrayContaining(['PLAINTEXT_EXPOSED', 'TLS_NOT_OFFERED']));
    expect(checked.findingsOpened).toBe(checks.length);
    const { findings } = await client.api.listFindings(
      {
        assetKind: AssetKind.ASSET_KIND_PARTICIPANT,
        assetId: providerId,
        pageSize: 50,
        pageToken: '',
      } as never,
      as(operator),
    );
    expect(findings.map((f) => f.ruleId).sort()).toEqual([...checks].sort());
    expect(findings.every((f) => f.tool === 'cinode-posture')).toBe(true);
    // Plaintext exposure (critical) and no TLS (high) make the provider critical: quarantined,
    // and this service's own call pipeline refuses it now, as every service's does.
    await until('the provider refused', async () => {
      const refused = await expectGrpcError(
        client.api.listEndpoints({ participantId: '', pageSize: 1, pageToken: '' }, as(provider)),
        GrpcStatus.PERMISSION_DENIED,
      );
      expect(reasonOf(refused)).toBe('PARTICIPANT_QUARANTINED');
    });

    // The provider is quarantined now (plaintext exposure is critical): the operator removes it.
    await client.api.removeEndpoint({ endpointId: endpoint!.endpointId }, as(operator));
    const after = await client.api.listFindings(
      {
        assetKind: AssetKind.ASSET_KIND_PARTICIPANT,
        assetId: providerId,
        status: FindingStatus.FINDING_STATUS_OPEN,
        pageSize: 50,
        pageToken: '',
      } as never,
      as(operator),
    );
    expect(after.findings).toEqual([]);
  });
});
