import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { REPORT_SCHEMA_VERSION, reportPayloadViolations } from '@cinode/contracts';
import { createGrpcClient, toTimestamp, type GrpcClient } from '@cinode/grpc';
import {
  ReportType,
  SpecialRequestState,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { ParticipantKind } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { PoolState, type Pool } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import {
  AssetKind,
  FindingStatus,
  QuarantineState,
  SubjectKind,
  type SecurityServiceClient,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { Demand } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { bearer, expectGrpcError, spawnNodeProcess, type ServiceProcess } from '@cinode/testing';
import { SETTLE_MS, organisation, registerAndCertify } from './support/market';
import {
  KeyHolder,
  as,
  startNode,
  type NodeClients,
  type NodeUnderTest,
} from './support/node-processes';
import { pollUntil } from './support/waiting';

/**
 * Issue 10 in the whole node: attack events an intrusion-detection system writes at a provider's
 * site travel through the provider agent to the security service and into the next security report
 * the national node mock accepts; a critical finding on a pool takes it out of demands needing a
 * higher security level until it is fixed; a participant quarantined on critical risk is refused
 * by every service and its pools leave selection until an operator lifts it.
 */
const AGENT = 'dist/services/provider-agent/src/main.js';
const POOLS = 3;

let node: NodeUnderTest;
let api: NodeClients;
let security: GrpcClient<SecurityServiceClient>;
let operator: KeyHolder;
let provider: KeyHolder;
let providerId: string;
let serviceToken: string;
let operatorToken: string;
let agent: ServiceProcess | undefined;
let workDir: string;
let attacksFile: string;
let pools: Pool[];

function startAgent(apiKey: string): ServiceProcess {
  return spawnNodeProcess(
    [AGENT, '--simulate', String(POOLS), '--seed', '10', '--attack-events', attacksFile],
    {
      SERVICE_CENTER_ADDRESS: node.addressOf('cinode.credential.v1.TokenService'),
      RESOURCE_AGGREGATION_ADDRESS: node.addressOf('cinode.resource.v1.ResourceService'),
      SECURITY_ADDRESS: node.addressOf('cinode.security.v1.SecurityService'),
      PROVIDER_API_KEY: apiKey,
      SNAPSHOT_INTERVAL_MS: '500',
      HEARTBEAT_INTERVAL_MS: '1000',
      LOG_LEVEL: 'info',
    },
  );
}

/** Any GPU or NPU card of the pool's first model, in its region, at least `minSecurityLevel`. */
function demandFor(target: Pool, minSecurityLevel: number): Demand {
  return {
    poolClass: target.spec!.poolClass,
    acceleratorModel: target.spec!.accelerators[0]?.model ?? '',
    acceleratorCount: target.spec!.accelerators.length > 0 ? 1 : 0,
    fp16Tflops: 0,
    fp32Tflops: 0,
    cpuCores: 1,
    memoryGib: 1,
    storageGib: 0,
    durationHours: 1,
    allowedRegions: [target.spec!.regionCode],
    userRegionCode: target.spec!.regionCode,
    userSite: '',
    maxLatencyMs: 0,
    minBandwidthMbps: 0,
    maxPriceFenPerHour: 0,
    minSecurityLevel,
    minRenewableRatio: 0,
    domesticOnly: false,
  };
}

async function selectedPoolIds(target: Pool, minSecurityLevel: number): Promise<string[]> {
  const { candidates } = await api.selection.select(
    { demand: demandFor(target, minSecurityLevel), weights: undefined, topK: 50 },
    as(serviceToken),
  );
  return candidates.map((c) => c.poolId);
}

async function providerPools(): Promise<Pool[]> {
  const { pools: listed } = await api.resources.listPools(
    {
      providerParticipantId: providerId,
      state: PoolState.POOL_STATE_UNSPECIFIED,
      regionCode: '',
      pageSize: 50,
      pageToken: '',
    },
    as(serviceToken),
  );
  return listed;
}

/** A SARIF 2.1.0 log of one scanner with a critical result per rule. */
function criticalSarif(tool: string, rules: string[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: tool, rules: rules.map((id) => ({ id })) } },
          results: rules.map((ruleId) => ({
            ruleId,
            level: 'error',
            message: { text: `${ruleId} is exploitable` },
            properties: { 'security-severity': '9.8' },
          })),
        },
      ],
    }),
  );
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'cinode-security-e2e-'));
  attacksFile = join(workDir, 'ids-events.jsonl');
  writeFileSync(attacksFile, '');
  node = await startNode({ tokenTtlSeconds: 600 });
  api = node.clients;
  security = createGrpcClient<SecurityServiceClient>('cinode.security.v1.SecurityService', {
    address: node.addressOf('cinode.security.v1.SecurityService'),
    credentials: node.credentials,
    defaultTimeoutMs: 15_000,
  });
  operator = new KeyHolder(api.tokens, node.operatorBootstrapKey);
  operatorToken = await node.auth.token(['operator'], 'e2e-security-operator');
  serviceToken = await node.auth.token(['service'], 'service-center');
  const registered = await registerAndCertify(
    api,
    operator,
    organisation(
      ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
      `Secure Compute ${randomUUID().slice(0, 8)}`,
    ),
  );
  providerId = registered.id;
  provider = new KeyHolder(api.tokens, registered.apiKey);
  agent = startAgent(registered.apiKey);
  ({ value: pools } = await pollUntil(
    `the agent's ${POOLS} pools online`,
    providerPools,
    (list) => list.length === POOLS && list.every((p) => p.state === PoolState.POOL_STATE_ONLINE),
    SETTLE_MS,
  ));
}, 180_000);

afterAll(async () => {
  security?.close();
  if (agent && agent.child.exitCode === null) {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
  if (process.env.E2E_SHOW_LOGS && agent) console.log(agent.output());
  if (process.env.E2E_SHOW_LOGS && node)
    for (const service of ['reporting', 'security']) console.log(service, node.outputOf(service));
  if (node) await node.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, 30_000);

const asOperator = () => ({ metadata: bearer(operatorToken) });

/** Awaits `work`; a failure carries the end of the named services' output, to see why. */
async function withLogs<T>(services: string[], work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const logs = services.map((s) => `--- ${s}\n${node.outputOf(s).slice(-6_000)}`).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
  }
}

describe('security (issue 10)', () => {
  it('puts attack events pushed by the provider agent into the next security report, every seed 004 field, accepted by the national node', async () => {
    const attackTime = new Date(Date.now() - 5 * 60_000);
    const lines = [
      {
        event_id: `ids-${randomUUID().slice(0, 8)}`,
        attack_time: attackTime.toISOString(),
        attacker_ip: '203.0.113.9',
        target_ip: '198.51.100.20',
        attack_method: 'SQL injection',
        attacked_asset_type: 'database',
        ongoing: true,
        description: 'UNION-based injection against the billing API',
        handling_status: 'handling',
        severity: 'high',
        pool_id: pools[0].poolId,
      },
      {
        event_id: `ids-${randomUUID().slice(0, 8)}`,
        attack_time: attackTime.toISOString(),
        attacker_ip: '2001:db8::66',
        target_ip: '2001:db8:1::10',
        attack_method: 'DDoS',
        attacked_asset_type: 'API gateway',
        ongoing: false,
        description: 'UDP reflection flood, absorbed upstream',
        handling_status: 'mitigated',
        severity: 'medium',
      },
    ];
    appendFileSync(attacksFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const ids = lines.map((l) => l.event_id);
    await pollUntil(
      'the agent to deliver both events',
      () =>
        security.api.listAttackEvents({ source: providerId, pageSize: 100 } as never, asOperator()),
      (r) => ids.every((id) => r.events.some((e) => e.event?.eventId === id)),
      SETTLE_MS,
    );

    const nationalRead = { metadata: bearer(await node.nationalToken(['operator'])) };
    const { value: nodes } = await pollUntil(
      'the node registered at the national node',
      () => api.national.listNodes({ pageSize: 10, pageToken: '' }, nationalRead),
      (r) => r.nodes.length > 0,
      SETTLE_MS,
    );
    const periodEnd = new Date();
    const { request } = await api.nationalAdmin.issueSpecialReportRequest(
      {
        nodeCode: nodes.nodes[0].nodeCode,
        reportTypes: [ReportType.REPORT_TYPE_SECURITY_INFORMATION],
        periodStart: toTimestamp(new Date(periodEnd.getTime() - 3_600_000)),
        periodEnd: toTimestamp(periodEnd),
        reason: 'security e2e',
        deadline: undefined,
        requestId: randomUUID(),
      },
      nationalRead,
    );
    const { value: answered } = await withLogs(
      ['reporting', 'security'],
      pollUntil(
        'the special report answered',
        () =>
          api.national.listSpecialReportRequests(
            {
              nodeCode: nodes.nodes[0].nodeCode,
              state: SpecialRequestState.SPECIAL_REQUEST_STATE_ANSWERED,
              issuedSince: undefined,
              pageSize: 50,
              pageToken: '',
            },
            nationalRead,
          ),
        (r) => r.requests.some((q) => q.specialRequestId === request!.specialRequestId),
        60_000,
      ),
    );
    const answer = answered.requests.find((q) => q.specialRequestId === request!.specialRequestId)!;
    expect(answer.onTime).toBe(true);
    const received = await api.national.getReport(
      { reportId: answer.answeredReportId },
      nationalRead,
    );
    const payload = JSON.parse(Buffer.from(received.report!.payload).toString('utf8')) as {
      security: { attack_events: Record<string, unknown>[] };
    };
    expect(reportPayloadViolations(REPORT_SCHEMA_VERSION, payload)).toEqual([]);
    for (const line of lines) {
      const reported = payload.security.attack_events.find((e) =>
        String(e['attack_event_id']).endsWith(line.event_id),
      );
      expect(reported).toBeDefined();
      expect(Object.keys(reported!).sort()).toEqual(
        [
          'attack_event_id',
          'attack_time',
          'attacker_ip',
          'target_ip',
          'attack_method',
          'attacked_asset_type',
          'ongoing',
          'description',
          'handling_status',
          'severity',
        ].sort(),
      );
      expect(reported).toMatchObject({
        attacker_ip: line.attacker_ip,
        target_ip: line.target_ip,
        attack_method: line.attack_method,
        attacked_asset_type: line.attacked_asset_type,
        ongoing: line.ongoing,
        description: line.description,
        handling_status: line.handling_status,
        severity: line.severity,
      });
      expect(new Date(String(reported!['attack_time'])).getTime()).toBe(attackTime.getTime());
    }
  }, 120_000);

  it('takes a pool with a critical finding out of demands needing its security level, and brings it back when fixed', async () => {
    // Not the pool the first test's attack named: its risk is this finding's and its provider's.
    const target = pools.find((p) => p.poolId !== pools[0].poolId && p.spec!.securityLevel >= 2)!;
    const level = target.spec!.securityLevel;
    await pollUntil(
      'selection to offer the pool at its level',
      () => selectedPoolIds(target, level),
      (ids) => ids.includes(target.poolId),
      SETTLE_MS,
    );
    await security.api.importFindings(
      {
        asset: { kind: AssetKind.ASSET_KIND_POOL, id: target.poolId },
        document: criticalSarif('Trivy', ['CVE-2024-6387']),
        completeScan: false,
      },
      asOperator(),
    );
    const { value: risk } = await pollUntil(
      'the pool capped at level 1',
      () =>
        security.api.getRisk(
          { subjectKind: SubjectKind.SUBJECT_KIND_POOL, subjectId: target.poolId },
          asOperator(),
        ),
      (r) => r.risk?.securityLevelCap === 1,
      SETTLE_MS,
    );
    expect(risk.risk!.quarantined).toBe(false);
    await pollUntil(
      'selection to drop the pool for demands at its level',
      () => selectedPoolIds(target, level),
      (ids) => !ids.includes(target.poolId),
      SETTLE_MS,
    );
    // A demand asking no security level still sees it.
    expect(await selectedPoolIds(target, 0)).toContain(target.poolId);

    const { findings } = await security.api.listFindings(
      {
        assetKind: AssetKind.ASSET_KIND_POOL,
        assetId: target.poolId,
        pageSize: 10,
        pageToken: '',
      } as never,
      asOperator(),
    );
    expect(findings).toHaveLength(1);
    await security.api.updateFindingStatus(
      {
        findingId: findings[0].findingId,
        status: FindingStatus.FINDING_STATUS_MITIGATED,
        note: 'OpenSSH upgraded',
        acceptedUntil: undefined,
        expectedVersion: 0,
      },
      asOperator(),
    );
    await pollUntil(
      'selection to offer the pool at its level again',
      () => selectedPoolIds(target, level),
      (ids) => ids.includes(target.poolId),
      SETTLE_MS,
    );
  }, 120_000);

  it('refuses a quarantined provider in every service and drops its pools, until an operator lifts it', async () => {
    const target = pools[0];
    await security.api.importFindings(
      {
        asset: { kind: AssetKind.ASSET_KIND_PARTICIPANT, id: providerId },
        document: criticalSarif('OWASP ZAP', ['RCE-1', 'RCE-2']),
        completeScan: false,
      },
      asOperator(),
    );
    const { value: listed } = await pollUntil(
      'the provider quarantined',
      () =>
        security.api.listQuarantines(
          { state: QuarantineState.QUARANTINE_STATE_ACTIVE, pageSize: 50, pageToken: '' },
          asOperator(),
        ),
      (r) => r.quarantines.some((q) => q.subjectId === providerId),
      SETTLE_MS,
    );
    const quarantine = listed.quarantines.find((q) => q.subjectId === providerId)!;
    const providerToken = await provider.token();
    for (const [what, call] of [
      [
        'resource aggregation',
        () =>
          api.resources.listPools(
            { providerParticipantId: '', state: 0, regionCode: '', pageSize: 1, pageToken: '' },
            as(providerToken),
          ),
      ],
      [
        'security',
        () => security.api.listFindings({ pageSize: 1, pageToken: '' } as never, as(providerToken)),
      ],
    ] as const) {
      const { value: refused } = await pollUntil(
        `${what} to refuse the quarantined provider`,
        () =>
          call().then(
            () => undefined,
            (error: unknown) => error as { code?: number; details?: string },
          ),
        (e) => e?.code === GrpcStatus.PERMISSION_DENIED,
        SETTLE_MS,
      );
      expect(refused!.details).toMatch(/quarantine/i);
    }
    await pollUntil(
      "selection to drop the provider's pools",
      () => selectedPoolIds(target, 0),
      (ids) => !pools.some((p) => ids.includes(p.poolId)),
      SETTLE_MS,
    );

    await expectGrpcError(
      security.api.liftQuarantine(
        { quarantineId: quarantine.quarantineId, reason: 'x' },
        as(providerToken),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    await security.api.liftQuarantine(
      { quarantineId: quarantine.quarantineId, reason: 'findings accepted after review' },
      asOperator(),
    );
    await pollUntil(
      'the provider served again',
      () =>
        api.resources
          .listPools(
            { providerParticipantId: '', state: 0, regionCode: '', pageSize: 1, pageToken: '' },
            as(providerToken),
          )
          .then(
            () => true,
            () => false,
          ),
      (served) => served,
      SETTLE_MS,
    );
    await pollUntil(
      "selection to offer the provider's pool again",
      () => selectedPoolIds(target, 0),
      (ids) => ids.includes(target.poolId),
      SETTLE_MS,
    );
  }, 120_000);
});
