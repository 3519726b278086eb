import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Module, type DynamicModule } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { ClientReadableStream, Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import { ValidationError, fingerprintOf } from '@cinode/common';
import {
  baseServiceSchema,
  eventsConfigShape,
  loadConfig,
  type BaseServiceConfig,
  type EventsConfig,
} from '@cinode/config';
import { UnitOfWork } from '@cinode/database';
import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import {
  PlatformModule,
  currentCall,
  serviceSchema,
  startService,
  type ServiceDefinition,
} from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type { AuditServiceClient } from '@cinode/proto/gen/cinode/audit/v1/audit_service';
import type {
  CountRequest,
  CountResponse,
  MutateRequest,
  MutateResponse,
  ProbeServiceClient,
} from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import {
  bearer,
  createTestDatabase,
  findFreePort,
  type TestAuth,
  plaintext,
} from '@cinode/testing';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export const KIT_PROBE = 'kit-probe';

export class CreateThing1796000001000 implements MigrationInterface {
  name = 'CreateThing1796000001000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE thing (key text PRIMARY KEY)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE thing`);
  }
}

const schema = serviceSchema(
  { entities: [], migrations: [CreateThing1796000001000] },
  { events: false },
);

/** The same with the platform's events (and so a NATS connection and the quarantine list). */
const schemaWithEvents = serviceSchema(
  { entities: [], migrations: [CreateThing1796000001000] },
  { events: true },
);

/** A state-changing RPC with every way a call can end, for the platform's audit and deadline rules. */
@Controller()
class MutateGrpcController {
  constructor(private readonly uow: UnitOfWork) {}

  @GrpcMethod('ProbeService', 'Mutate')
  @AllowRoles('operator', 'provider')
  @Audited('thing', 'created', 'key')
  async mutate(request: MutateRequest, metadata: Metadata): Promise<MutateResponse> {
    const caller = callerOf(metadata);
    if (request.behaviour === 'validation')
      throw new ValidationError([{ field: 'key', description: 'is not acceptable' }]);
    const key = request.requestId
      ? {
          scope: caller.subject,
          requestId: request.requestId,
          operation: 'Mutate',
          fingerprint: fingerprintOf({ key: request.key }),
        }
      : undefined;
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      await tx.manager.query(`INSERT INTO thing (key) VALUES ($1)`, [request.key]);
      if (request.behaviour === 'slow_in_transaction')
        await tx.manager.query(`SELECT pg_sleep($1)`, [request.delayMs / 1000]);
      return { result: request.key, objectId: request.key };
    });
    if (request.behaviour === 'fail_after_commit') throw new Error('failed after its commit');
    if (request.behaviour === 'sleep_after_commit') await sleep(request.delayMs);
    return outcome.created
      ? { key: outcome.result, created: true }
      : { key: outcome.objectId, created: false };
  }
}

/** What the Count stream's handler saw, for tests: messages made, and whether it was let go. */
export const countProbe = { produced: 0, finished: 0 };

/** A server-streaming RPC served by the kit: numbered messages until the count or the caller ends. */
@Controller()
class CountGrpcController {
  @GrpcMethod('ProbeService', 'Count')
  @AllowRoles('regulator', 'provider')
  @ReadOnly()
  count(request: CountRequest, metadata: Metadata): AsyncIterable<CountResponse> {
    if (request.count < 0)
      throw new ValidationError([{ field: 'count', description: 'must not be negative' }]);
    const subject = callerOf(metadata).subject;
    const signal = currentCall()?.signal;
    return (async function* () {
      try {
        for (let n = 1; request.count === 0 || n <= request.count; n += 1) {
          if (request.delayMs > 0)
            await sleep(request.delayMs, undefined, { signal }).catch(() => undefined);
          if (signal?.aborted) return;
          countProbe.produced += 1;
          yield { number: n, callerSubject: subject };
        }
      } finally {
        countProbe.finished += 1;
      }
    })();
  }
}

@Module({})
class KitProbeModule {
  static forConfig(config: BaseServiceConfig & Partial<EventsConfig>): DynamicModule {
    const platform = config.NATS_URL
      ? PlatformModule.forService({
          service: KIT_PROBE,
          config,
          schema: schemaWithEvents,
          events: { owns: [] },
        })
      : PlatformModule.forService({ service: KIT_PROBE, config, schema });
    return {
      module: KitProbeModule,
      imports: [platform],
      controllers: [MutateGrpcController, CountGrpcController],
    };
  }
}

export const kitProbe: ServiceDefinition<BaseServiceConfig & Partial<EventsConfig>> = {
  name: KIT_PROBE,
  // With NATS_URL set, the probe runs with events.
  loadConfig: (env) =>
    env?.NATS_URL
      ? loadConfig({ service: KIT_PROBE, schema: baseServiceSchema.extend(eventsConfigShape) }, env)
      : loadConfig({ service: KIT_PROBE, schema: baseServiceSchema }, env),
  secrets: [],
  module: (config) => KitProbeModule.forConfig(config),
  services: ['cinode.testing.v1.ProbeService'],
  schema,
};

/**
 * Opens the Count stream as the caller of `token`, with a deadline `deadlineMs` away: the raw
 * grpc-js stream, whose events a test reads (the promise client has no streams).
 */
export function openCount(
  server: KitProbeServer,
  token: string,
  request: { count: number; delayMs: number },
  deadlineMs = 10_000,
): ClientReadableStream<CountResponse> {
  const raw = server.clientAs(token).probe.raw as unknown as {
    count(
      request: unknown,
      metadata: ReturnType<typeof bearer>,
      options: { deadline: Date },
    ): ClientReadableStream<CountResponse>;
  };
  return raw.count(request, bearer(token), { deadline: new Date(Date.now() + deadlineMs) });
}

export interface KitProbeServer {
  service: RunningGrpcService;
  databaseUrl: string;
  clientAs(token: string): {
    probe: GrpcClient<ProbeServiceClient>;
    audit: GrpcClient<AuditServiceClient>;
  };
  stop(): Promise<void>;
}

export async function startKitProbe(
  auth: TestAuth,
  env: Record<string, string> = {},
): Promise<KitProbeServer> {
  const databaseUrl = await createTestDatabase('kit_probe');
  const port = await findFreePort();
  const config = kitProbe.loadConfig({
    DATABASE_URL: databaseUrl,
    AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '3000',
    // In process, the event loop is the test's too: its lag is not the service's load.
    GRPC_SHED_LAG_MS: '0',
    ...env,
  });
  const service = await startService(
    kitProbe,
    config,
    createLogger({ service: KIT_PROBE, level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  );
  const clients: { close(): void }[] = [];
  return {
    service,
    databaseUrl,
    clientAs: (token) => {
      const settings = {
        address: `127.0.0.1:${port}`,
        credentials: plaintext(),
        token: () => token,
        defaultTimeoutMs: 10_000,
      };
      const probe = createGrpcClient<ProbeServiceClient>(
        'cinode.testing.v1.ProbeService',
        settings,
      );
      const audit = createGrpcClient<AuditServiceClient>('cinode.audit.v1.AuditService', settings);
      clients.push(probe, audit);
      return { probe, audit };
    },
    stop: async () => {
      for (const client of clients) client.close();
      await service.stop();
    },
  };
}
