// Pieces the benches that run the identifier service share: a national-node stub that accepts
// every filing, certifying a provider the way the service center's relay would, and polling.
import {
  Server,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { ParticipantCertified, eventOf } from '@cinode/contracts';
import { createEnvelope, encodeEnvelope } from '@cinode/events';
import { toTimestamp } from '@cinode/grpc';
import type {
  FileIdentifierRequest,
  FileIdentifierResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startEmbeddedPostgres,
  startNatsServer,
  type StartedNats,
  type StartedPostgres,
} from '@cinode/local-infra';
import { connect } from 'nats';
import { Client } from 'pg';
import { listen, methodOf } from './bare-grpc';

const NATIONAL_SERVICE = 'cinode.national.v1.NationalNodeService';

/**
 * The national node, as far as filing goes: a bare grpc-js server that accepts every
 * FileIdentifier at once (it ignores the service token). The service files every identifier it
 * issues in the background; with a real, answering national node that work finishes, and the
 * bench waits for it after each issue round instead of letting it spill into other sides' rounds.
 */
export async function startNationalStub(): Promise<{
  server: Server;
  port: number;
  filings(): number;
}> {
  const server = new Server();
  const fileIdentifier = methodOf<FileIdentifierRequest, FileIdentifierResponse>(
    NATIONAL_SERVICE,
    'FileIdentifier',
  );
  const filed = new Map<string, string>();
  server.addService({ FileIdentifier: fileIdentifier } as ServiceDefinition, {
    FileIdentifier: (
      call: ServerUnaryCall<FileIdentifierRequest, FileIdentifierResponse>,
      callback: sendUnaryData<FileIdentifierResponse>,
    ) => {
      const request = call.request;
      const existing = filed.get(request.identifier);
      const filingNumber = existing ?? `NF${String(20260101000000 + filed.size + 1)}`;
      filed.set(request.identifier, filingNumber);
      callback(null, {
        created: existing === undefined,
        filing: {
          filingNumber,
          identifier: request.identifier,
          nodeCode: request.nodeCode,
          objectType: request.objectType,
          objectName: request.objectName,
          ownerName: request.ownerName,
          ownerCreditCode: request.ownerCreditCode,
          attributes: request.attributes,
          allocatedAt: request.allocatedAt,
          filedAt: toTimestamp(new Date()),
        },
      });
    },
  });
  return { server, port: await listen(server), filings: () => filed.size };
}

/** Marks the participant certified the way the service center's outbox relay would. */
export async function certify(natsUrl: string, participantId: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const envelope = createEnvelope(
      'service-center',
      eventOf(ParticipantCertified, {
        participantId,
        version: 3,
        kind: 'COMPUTE_PROVIDER',
        state: 'CERTIFIED',
        previousState: 'UNDER_REVIEW',
        legalName: 'Example Cloud Ltd.',
        creditCode: '91310000MA1FL0000X',
        reason: 'bench',
        actor: 'bench-operator',
      }),
    );
    await nc.jetstream().publish(envelope.type, encodeEnvelope(envelope), { msgID: envelope.id });
  } finally {
    await nc.close();
  }
}

/** Polls until `done` holds, failing after `limitMs` with `what`. */
export async function waitUntil(
  done: () => Promise<boolean>,
  what: string,
  limitMs: number,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** BENCH_PG_STATEMENTS=1: the bench's Postgres keeps statement statistics (pg_stat_statements). */
export function statementStatsWanted(): boolean {
  return process.env.BENCH_PG_STATEMENTS === '1';
}

/**
 * Prints the statements that took the most time in each database, when statementStatsWanted(): the
 * whole run's, since the server started (setup included).
 */
export async function printStatementStats(
  adminUrl: string,
  databases: string[],
  top = 12,
): Promise<void> {
  if (!statementStatsWanted()) return;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    for (const database of databases) {
      const { rows } = await client.query<{
        ms: string;
        calls: string;
        rows: string;
        query: string;
      }>(
        `SELECT round(s.total_exec_time)::text AS ms, s.calls::text AS calls, s.rows::text AS rows,
           left(regexp_replace(s.query, '\\s+', ' ', 'g'), 120) AS query
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname = $1 ORDER BY s.total_exec_time DESC LIMIT $2`,
        [database, top],
      );
      console.log(`statements of ${database} (total ms, calls, rows, statement):`);
      for (const r of rows)
        console.log(`${r.ms.padStart(8)} ${r.calls.padStart(7)} ${r.rows.padStart(8)}  ${r.query}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * A temporary directory with Postgres (not persistent: fsync off) and `nats-server -js` in it, and
 * these databases created; each thing started is pushed on `cleanups` (stopped newest first).
 */
export async function startBenchInfra(
  name: string,
  databases: string[],
  cleanups: Array<() => unknown>,
): Promise<{ dir: string; postgres: StartedPostgres; nats: StartedNats }> {
  const dir = await mkdtemp(path.join(tmpdir(), `cinode-bench-${name}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  // As root, Postgres runs as the `postgres` user, which must be able to enter the directory.
  await chmod(dir, 0o755);
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'postgres'),
    persistent: false,
    statementStats: statementStatsWanted(),
  });
  cleanups.push(() => postgres.stop());
  const nats = await startNatsServer({ storeDir: path.join(dir, 'nats'), persistent: false });
  cleanups.push(() => nats.stop());
  for (const database of databases) await postgres.createDatabase(database);
  return { dir, postgres, nats };
}

/**
 * The environment of the built identifier service in a bench: its own database, the bench's NATS
 * and national-node stub, registered already (NODE_CODE R0001: issuance works from the first call).
 */
export function identifierBenchEnv(settings: {
  databaseUrl: string;
  natsUrl: string;
  nationalPort: number;
  publicKeys: string;
  serviceSigningKey: string;
  grpcPort: number;
  metricsPort: number;
}): Record<string, string> {
  return {
    DATABASE_URL: settings.databaseUrl,
    NATS_URL: settings.natsUrl,
    AUTH_JWT_PUBLIC_KEYS: settings.publicKeys,
    AUTH_SERVICE_SIGNING_KEY: settings.serviceSigningKey,
    NATIONAL_NODE_ADDRESS: `127.0.0.1:${settings.nationalPort}`,
    NATIONAL_NODE_TIMEOUT_MS: '2000',
    NODE_CODE: 'R0001',
    IDENTIFIER_PREFIX: 'CN.R0001',
    NODE_KEY: 'bench-node',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(settings.grpcPort),
    METRICS_PORT: String(settings.metricsPort),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
    // One provider drives the whole load: its rate limit far above it (the limiter still runs).
    GRPC_PARTICIPANT_RATE_LIMIT: '1000000',
    GRPC_PARTICIPANT_BURST: '1000000',
  };
}
