import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { AuditModule } from '@cinode/audit';
import { AuthModule } from '@cinode/auth';
import { grpcClientTransport, type BaseServiceConfig, type EventsConfig } from '@cinode/config';
import type { StreamContract } from '@cinode/contracts';
import { PageTokens } from '@cinode/common';
import { DatabaseModule, TransactionExtensions, platformSecret } from '@cinode/database';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EventsModule, NATS_CONNECTION } from '@cinode/events';
import type { NatsConnection } from 'nats';
import { ADMISSION_GATE, DIRECT_DISPATCH, clientCredentials } from '@cinode/grpc';
import { CALL_PIPELINE_OPTIONS, CallPipeline } from './call-pipeline.interceptor';
import { ACCESS_CONTROL_OPTIONS, AccessControls } from './access-controls';
import { DeclarationsCheck } from './declarations.check';
import { LOAD_SHEDDER_OPTIONS, LoadShedder } from './load-shedder';
import { WireGate } from './wire-gate';
import { DirectCallDispatcher } from './direct-call-dispatcher';
import { QUARANTINE_SOURCE, QuarantineList, natsQuarantineSource } from './quarantine-list';
import type { ServiceSchema } from './schema';
import { callTransactionHook } from './transaction-hooks';

/** The platform secret page tokens are signed with. */
const PAGE_TOKEN_SECRET = 'page-token-key';

/** Injection token of the service's validated config. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** Injects the service's validated config. */
export const InjectConfig = (): ParameterDecorator => Inject(SERVICE_CONFIG);

/**
 * Injection token of the channel credentials for calls to the node's other services, built once at
 * start-up from GRPC_CLIENT_TLS_* (files read then): pass them to createGrpcClient.
 */
export const PEER_CREDENTIALS = Symbol('PEER_CREDENTIALS');

/** Injects the channel credentials for calls to the node's other services. */
export const InjectPeerCredentials = (): ParameterDecorator => Inject(PEER_CREDENTIALS);

export interface PlatformOptions {
  /** The service's name: logs, metrics, event source, audit records, error domain. */
  service: string;
  config: BaseServiceConfig & Partial<EventsConfig>;
  /**
   * Its entities and migrations with the platform's (serviceSchema). Without one the service has no
   * database, hence no audit trail: only `@ReadOnly` RPCs (test probes).
   */
  schema?: ServiceSchema;
  /** Streams the service owns; set for a service that publishes or consumes events. */
  events?: { owns: readonly StreamContract[] };
  /**
   * The service provides its own TokenVerifier from a global module (the service center trusts
   * the signing keys in its own database); otherwise the platform's verifies static keys and the
   * service center's JWKS.
   */
  ownTokenVerifier?: boolean;
}

@Injectable()
class PlatformHooks implements OnModuleInit {
  constructor(private readonly extensions: TransactionExtensions) {}

  onModuleInit(): void {
    this.extensions.addHook(callTransactionHook);
  }
}

/**
 * Everything a cinode service stands on, in one import: its database (migrations, unit of work,
 * idempotency keys), token verification, events (outbox, relay, consumers) when it has any, the
 * audit trail and AuditService, and the call pipeline every RPC passes through. A service's root
 * module imports this and declares only its own features.
 */
@Module({})
export class PlatformModule {
  static forService(options: PlatformOptions): DynamicModule {
    const { config, service } = options;
    if (options.events && !config.NATS_URL)
      throw new Error(`${service}: events need NATS_URL in the config schema (eventsConfigShape)`);
    if (options.events && !options.schema)
      throw new Error(`${service}: events need a database (the outbox and processed events)`);
    const peerCredentials = clientCredentials(grpcClientTransport(config));
    const imports: DynamicModule[] = [
      DiscoveryModule as unknown as DynamicModule,
      AuthModule.forRoot({
        publicKeys: config.AUTH_JWT_PUBLIC_KEYS,
        issuer: config.AUTH_JWT_ISSUER,
        audience: config.AUTH_JWT_AUDIENCE,
        maxLifetimeSeconds: config.AUTH_JWT_MAX_TTL_SECONDS,
        clockToleranceSeconds: config.AUTH_JWT_CLOCK_TOLERANCE_SECONDS,
        jwksAddress: config.AUTH_JWKS_ADDRESS,
        jwksMaxStaleSeconds: config.AUTH_JWKS_MAX_STALE_SECONDS,
        peerCredentials,
        serviceName: service,
        serviceSigningKey: config.AUTH_SERVICE_SIGNING_KEY,
        ownTokenVerifier: options.ownTokenVerifier,
      }),
    ];
    if (options.schema) {
      imports.push(
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          entities: options.schema.entities,
          migrations: options.schema.migrations,
          migrateOnStart: config.DB_MIGRATE_ON_START,
          applicationName: service,
          poolSize: config.DB_POOL_MAX,
        }),
        AuditModule.forService(service),
      );
    }
    if (options.events) {
      imports.push(
        EventsModule.forRoot({
          natsUrl: config.NATS_URL,
          source: service,
          owns: options.events.owns,
          consumerBackoff: {
            initialMs: config.EVENT_RETRY_INITIAL_MS ?? 1_000,
            maxMs: config.EVENT_RETRY_MAX_MS ?? 60_000,
          },
          relay: {
            maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
            batchSize: config.OUTBOX_BATCH_SIZE,
            concurrency: config.OUTBOX_CONCURRENCY,
            retentionMs:
              config.OUTBOX_RETENTION_HOURS === undefined
                ? undefined
                : config.OUTBOX_RETENTION_HOURS * 3_600_000,
          },
          streamOptions: { replicas: config.EVENT_STREAM_REPLICAS },
          processedEventRetentionMs: config.PROCESSED_EVENT_RETENTION_MS,
        }),
      );
    }
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: PEER_CREDENTIALS, useValue: peerCredentials },
      {
        provide: CALL_PIPELINE_OPTIONS,
        useValue: {
          deadlines: {
            defaultMs: config.GRPC_DEFAULT_DEADLINE_MS,
            maxMs: config.GRPC_MAX_DEADLINE_MS,
          },
          unauthenticatedAuditPerMinute: config.AUDIT_UNAUTHENTICATED_PER_MINUTE,
          callerRefusalAuditPerMinute: config.AUDIT_CALLER_REFUSALS_PER_MINUTE,
        },
      },
      { provide: LOAD_SHEDDER_OPTIONS, useValue: { lagThresholdMs: config.GRPC_SHED_LAG_MS } },
      LoadShedder,
      // The server asks the address lists and the shedder as each call's headers arrive.
      WireGate,
      { provide: ADMISSION_GATE, useExisting: WireGate },
      {
        provide: ACCESS_CONTROL_OPTIONS,
        useValue: {
          denyCidrs: config.GRPC_DENY_CIDRS,
          allowCidrs: config.GRPC_ALLOW_CIDRS,
          participantRatePerSecond: config.GRPC_PARTICIPANT_RATE_LIMIT,
          participantBurst: config.GRPC_PARTICIPANT_BURST,
          serveWhileQuarantineUnread: config.GRPC_QUARANTINE_UNREAD === 'serve',
        },
      },
      // A service with events (hence a NATS connection) refuses quarantined participants' calls.
      ...(options.events
        ? [
            {
              provide: QUARANTINE_SOURCE,
              useFactory: (nc: NatsConnection) => natsQuarantineSource(nc),
              inject: [NATS_CONNECTION],
            },
            QuarantineList,
          ]
        : []),
      AccessControls,
      CallPipeline,
      // The same instance on both paths: Nest's (as an interceptor) and the direct one.
      {
        provide: APP_INTERCEPTOR,
        useFactory: (pipeline: CallPipeline) => pipeline,
        inject: [CallPipeline],
      },
      { provide: DIRECT_DISPATCH, useClass: DirectCallDispatcher },
      DeclarationsCheck,
      ...(options.schema ? [PlatformHooks] : []),
      options.schema
        ? {
            provide: PageTokens,
            // One key for all replicas, kept in the service's database: tokens survive restarts
            // and work on any replica, and no other service's tokens pass.
            useFactory: async (dataSource: DataSource) =>
              new PageTokens(await platformSecret(dataSource, PAGE_TOKEN_SECRET)),
            inject: [getDataSourceToken()],
          }
        : { provide: PageTokens, useFactory: () => PageTokens.ephemeral() },
    ];
    return {
      module: PlatformModule,
      global: true,
      imports,
      providers,
      exports: [SERVICE_CONFIG, PageTokens, PEER_CREDENTIALS],
    };
  }
}
