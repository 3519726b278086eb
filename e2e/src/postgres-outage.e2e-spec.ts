import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ParticipantCertified, eventOf } from '@cinode/contracts';
import {
  createEnvelope,
  encodeEnvelope,
  listDeadLetters,
  publishEnvelope,
  type DeadLetter,
} from '@cinode/events';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import {
  ensureDatabase,
  findFreePort,
  startEmbeddedPostgres,
  type StartedPostgres,
} from '@cinode/local-infra';
import {
  ParticipantKind,
  UserCategory,
  type CertificationServiceClient,
  type ParticipantServiceClient,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  WORKSPACE_ROOT,
  bearer,
  createTestAuth,
  spawnService,
  startTestNats,
  waitForServing,
  type ServiceProcess,
  type TestAuth,
  type TestNats,
  eventually,
  plaintext,
} from '@cinode/testing';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';

/**
 * Issue 6, "done when": Postgres stops for 60 seconds while participant events flow; afterwards the
 * identifier's projection matches the service center exactly and nothing sits in the dead-letter
 * stream. Then a malformed event is dead-lettered on its first delivery and `npm run dlq` replays it.
 *
 * The services run as built processes on a Postgres of this test's own (the shared one cannot be
 * stopped) with a real data directory, stopped and started again on the same port.
 */
const OUTAGE_MS = 60_000;
const CONSUMER = 'identifier-participants';
jest.setTimeout(OUTAGE_MS + 150_000);

let dir: string;
let postgres: StartedPostgres | undefined;
let postgresPort: number;
let nats: TestNats;
let nc: NatsConnection;
let auth: TestAuth;
let center: ServiceProcess;
let identifier: ServiceProcess;
let participants: GrpcClient<ParticipantServiceClient>;
let certification: GrpcClient<CertificationServiceClient>;

function startPostgres(): Promise<StartedPostgres> {
  return startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: postgresPort, persistent: true });
}

function databaseUrl(name: string): string {
  const url = new URL(postgres!.adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function query<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl(database) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

interface Projected {
  id: string;
  version: number;
  kind: string;
  state: string;
  legal_name: string | null;
  credit_code: string | null;
}

const KINDS = ['', 'COMPUTE_PROVIDER', 'RESELLER', 'APPLICATION_PROVIDER', 'LINE_PROVIDER', 'USER'];
const STATES = ['', 'SUBMITTED', 'UNDER_REVIEW', 'CERTIFIED', 'REJECTED', 'SUSPENDED', 'REVOKED'];

/** The service center's participants, as a projection of them must look. */
async function serviceCenterView(): Promise<Projected[]> {
  const rows = await query<{
    id: string;
    version: number;
    kind: number;
    state: number;
    name: string;
    credit_code: string | null;
  }>(
    'service_center',
    `SELECT id, version, kind, state, name, organization->>'creditCode' AS credit_code
       FROM participant ORDER BY id`,
  );
  return rows.map((r) => ({
    id: r.id,
    version: r.version,
    kind: KINDS[r.kind],
    state: STATES[r.state],
    legal_name: r.name,
    credit_code: r.credit_code,
  }));
}

async function identifierView(): Promise<Projected[]> {
  return query<Projected>(
    'identifier',
    `SELECT participant_id AS id, version, kind, state, legal_name, credit_code
       FROM participant_projection ORDER BY participant_id`,
  );
}

async function matchingViews(): Promise<Projected[] | undefined> {
  const [center, projected] = await Promise.all([serviceCenterView(), identifierView()]);
  return JSON.stringify(center) === JSON.stringify(projected) ? center : undefined;
}

async function consumedCounter(metricsPort: number, result: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('cinode_events_consumed_total{') &&
      line.includes(`consumer="${CONSUMER}"`) &&
      line.includes(`result="${result}"`)
    )
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function registration() {
  return {
    requestId: randomUUID(),
    kind: ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name: `Outage Compute ${randomUUID().slice(0, 8)}`,
    organization: {
      creditCode: '91440300708461136T',
      address: 'Road 1',
      credentials: plaintext(),
      contactPerson: { name: 'A', title: 'B', mobile: '13800138000', email: 'a@example.cn' },
      responsiblePerson: { name: 'C', title: 'D', mobile: '13900139000', email: 'c@example.cn' },
    },
    individual: undefined,
  };
}

/** Registers participants and moves some along, as operators do: every step is an event. */
async function participantTraffic(count: number): Promise<string[]> {
  const operator = { metadata: bearer(await auth.token(['operator'], 'op-outage')) };
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = (await participants.api.createParticipant(registration())).participant!.id;
    ids.push(id);
    if (i % 3 === 0) continue;
    await certification.api.startReview({ participantId: id, reason: 'review' }, operator);
    await certification.api.certifyParticipant(
      { participantId: id, reason: 'ok', requestId: randomUUID() },
      operator,
    );
    if (i % 3 === 2)
      await certification.api.suspendParticipant({ participantId: id, reason: 'audit' }, operator);
  }
  return ids;
}

async function parked(): Promise<DeadLetter[]> {
  return listDeadLetters(await nc.jetstreamManager(), { consumer: CONSUMER });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cinode-outage-'));
  // As root, Postgres runs as an unprivileged user that must reach its data directory.
  chmodSync(dir, 0o755);
  postgresPort = await findFreePort();
  postgres = await startPostgres();
  await ensureDatabase(postgres.adminUrl, 'service_center');
  await ensureDatabase(postgres.adminUrl, 'identifier');
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  auth = await createTestAuth();
  const common = {
    AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
    NATS_URL: nats.url,
    LOG_LEVEL: 'error',
    SHUTDOWN_GRACE_MS: '2000',
    // Retries while Postgres is down: quick, capped, never given up.
    EVENT_RETRY_INITIAL_MS: '200',
    EVENT_RETRY_MAX_MS: '2000',
  };
  const centerPort = await findFreePort();
  center = spawnService('service-center', {
    ...common,
    DATABASE_URL: databaseUrl('service_center'),
    GRPC_PORT: String(centerPort),
    METRICS_PORT: '0',
    QUALIFICATION_SWEEP_INTERVAL_MS: '0',
    // The market's peers are not part of this test: a closed port answers their calls UNAVAILABLE.
    COMPUTE_SELECTION_ADDRESS: '127.0.0.1:9',
    RESOURCE_AGGREGATION_ADDRESS: '127.0.0.1:9',
    ORDER_RECOVERY_INTERVAL_MS: '0',
  });
  const identifierPort = await findFreePort();
  const identifierMetrics = await findFreePort();
  identifier = spawnService('identifier', {
    ...common,
    DATABASE_URL: databaseUrl('identifier'),
    GRPC_PORT: String(identifierPort),
    METRICS_PORT: String(identifierMetrics),
    // Registered already: no national node is needed for the participant projection.
    NATIONAL_NODE_ADDRESS: '127.0.0.1:9',
    NODE_CODE: 'R0001',
    IDENTIFIER_PREFIX: 'CN.R0001',
  });
  (identifier as ServiceProcess & { metricsPort?: number }).metricsPort = identifierMetrics;
  await Promise.all([
    waitForServing(`127.0.0.1:${centerPort}`, 60_000, center),
    waitForServing(`127.0.0.1:${identifierPort}`, 60_000, identifier),
  ]);
  const settings = {
    address: `127.0.0.1:${centerPort}`,
    credentials: plaintext(),
    defaultTimeoutMs: 15_000,
  };
  participants = createGrpcClient('cinode.participant.v1.ParticipantService', settings);
  certification = createGrpcClient('cinode.participant.v1.CertificationService', settings);
});

afterAll(async () => {
  participants?.close();
  certification?.close();
  for (const proc of [identifier, center]) {
    if (!proc) continue;
    if (proc.child.exitCode === null) {
      proc.child.kill('SIGCONT');
      proc.child.kill('SIGTERM');
    }
    await proc.exited;
  }
  await nc?.close();
  await nats?.stop();
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a Postgres outage while participant events flow', () => {
  it('loses no event: after 60 s down, the projection matches the service center and nothing is dead-lettered', async () => {
    const metricsPort = (identifier as ServiceProcess & { metricsPort: number }).metricsPort;
    await participantTraffic(6);
    await eventually('the projection to catch up', matchingViews, 30_000);

    const retriedBefore = await consumedCounter(metricsPort, 'retried');
    // The identifier falls behind (frozen, as a slow consumer), the service center goes on: these
    // events are in the stream, unconsumed, when Postgres stops.
    identifier.child.kill('SIGSTOP');
    const behind = await participantTraffic(9);
    await eventually(
      'the outbox to be published',
      async () => {
        const [{ n }] = await query<{ n: number }>(
          'service_center',
          `SELECT count(*)::int AS n FROM outbox_event WHERE published_at IS NULL`,
        );
        return n === 0 ? true : undefined;
      },
      20_000,
    );
    const expected = await serviceCenterView();
    expect(expected.filter((p) => behind.includes(p.id))).toHaveLength(9);
    const stoppedAt = Date.now();
    await postgres!.stop();
    postgres = undefined;
    identifier.child.kill('SIGCONT');

    // Deliveries fail while Postgres is down, and keep being retried.
    await eventually(
      'failed deliveries during the outage',
      async () =>
        (await consumedCounter(metricsPort, 'retried')) > retriedBefore ? true : undefined,
      30_000,
    );
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    postgres = await startPostgres();

    const after = await eventually(
      'the projection to match the service center',
      matchingViews,
      60_000,
    );
    expect(after).toEqual(expected);
    expect(await parked()).toEqual([]);
    expect(identifier.child.exitCode).toBeNull();
    expect(center.child.exitCode).toBeNull();
  });

  it('dead-letters a malformed event on its first delivery, and the dlq command replays it', async () => {
    const [target] = (await serviceCenterView()).filter((p) => p.state === 'CERTIFIED');
    const good = eventOf(ParticipantCertified, {
      participantId: target.id,
      version: target.version + 1,
      kind: 'COMPUTE_PROVIDER',
      state: 'CERTIFIED',
      previousState: 'UNDER_REVIEW',
      legalName: 'Corrected Compute Ltd.',
      creditCode: '91440300708461136T',
      reason: 'replayed',
      actor: 'op-outage',
    });
    // The same event without its legal name: the contract refuses it, so no delivery can succeed.
    const { legalName: _dropped, ...withoutName } = good.data;
    const malformed = createEnvelope('service-center', { ...good, data: withoutName });
    await publishEnvelope(nc.jetstream(), malformed);

    const [letter] = await eventually(
      'the malformed event in the dead-letter stream',
      async () => {
        const letters = await parked();
        return letters.length > 0 ? letters : undefined;
      },
      20_000,
    );
    expect(letter).toMatchObject({ eventId: malformed.id, deliveries: 1, subject: malformed.type });
    expect(letter.error).toMatch(/MalformedEventError: .*legalName/);
    expect((await identifierView()).find((p) => p.id === target.id)?.version).toBe(target.version);

    const dlq = (...args: string[]) =>
      spawnSync(process.execPath, [join(WORKSPACE_ROOT, 'scripts', 'dlq.mjs'), ...args], {
        env: { PATH: process.env.PATH ?? '', NATS_URL: nats.url },
        encoding: 'utf8',
      });
    const listed = dlq('list', '--consumer', CONSUMER);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(malformed.type);
    expect(listed.stdout).toMatch(new RegExp(`^\\s*${letter.seq}\\s+${CONSUMER}`, 'm'));
    expect(listed.stdout).toContain('1 message(s)');

    const corrected = join(dir, 'corrected.json');
    writeFileSync(corrected, encodeEnvelope({ ...malformed, data: good.data }));
    const replayed = dlq('replay', String(letter.seq), '--data', corrected);
    expect(replayed.stderr).toBe('');
    expect(replayed.status).toBe(0);

    await eventually(
      'the replayed event in the projection',
      async () => {
        const row = (await identifierView()).find((p) => p.id === target.id);
        return row?.legal_name === 'Corrected Compute Ltd.' ? row : undefined;
      },
      20_000,
    );
    expect(await parked()).toEqual([]);
  });
});
