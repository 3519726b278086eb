import { EventEmitter, once } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import {
  Client,
  credentials,
  Metadata,
  type CallOptions,
  type ClientDuplexStream,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import { NotFoundError, ValidationError } from '@cinode/common';
import { baseServiceSchema, loadConfig, type BaseServiceConfig } from '@cinode/config';
import { startGrpcService, type RunningGrpcService } from '@cinode/grpc';
import { PlatformModule, currentCall } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import { ProbeRequest, ProbeResponse } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { findFreePort, type TestAuth } from '@cinode/testing';

export const PROBE_SERVICE = 'cinode.testing.v1.ProbeService';
export const PROBE_SERVICE_NAME = 'probe-test';
export const PROBE_DOMAIN = `${PROBE_SERVICE_NAME}.cinode`;
export const PROBE_PATH = `/${PROBE_SERVICE}/Probe`;
export const CRASH_TEXT = 'boom with secret stack detail';

/** What the probe handlers saw, so tests can assert on the server side of a call. */
export class ProbeObservations {
  /** The deadline of each Probe call as the server saw it (ms since epoch, Infinity when none). */
  readonly deadlines: number[] = [];
  /** The caller's address and port of each Probe call: one per connection it came over. */
  readonly peers: string[] = [];
  /** Emits 'slow-started' when a "slow" handler begins. */
  readonly events = new EventEmitter();
  /** Aborted when the server stops, so no "slow" handler outlives its test. */
  readonly stopping = new AbortController();

  /** Resolves when the next "slow" handler has begun, failing after timeoutMs. */
  async nextSlowStart(timeoutMs = 5_000): Promise<void> {
    await once(this.events, 'slow-started', { signal: AbortSignal.timeout(timeoutMs) });
  }
}

@Controller()
export class ProbeGrpcController {
  constructor(@Inject(ProbeObservations) private readonly observations: ProbeObservations) {}

  @GrpcMethod('ProbeService', 'Probe')
  @AllowRoles('operator', 'service')
  @ReadOnly()
  async probe(
    request: ProbeRequest,
    metadata: Metadata,
    call: ServerUnaryCall<ProbeRequest, ProbeResponse>,
  ): Promise<ProbeResponse> {
    const deadline = call.getDeadline();
    this.observations.deadlines.push(deadline instanceof Date ? deadline.getTime() : deadline);
    this.observations.peers.push(call.getPeer());
    switch (request.behaviour) {
      case 'validation':
        throw new ValidationError([{ field: 'message', description: 'must not be rude' }]);
      case 'not_found':
        throw new NotFoundError('PROBE_NOT_FOUND', `probe ${request.message} does not exist`);
      case 'crash':
        throw new Error(CRASH_TEXT);
      case 'slow':
        this.observations.events.emit('slow-started');
        // A handler that waits listens to its call too: the call's deadline or cancellation ends it.
        await sleep(request.delayMs, undefined, {
          signal: AbortSignal.any(
            [this.observations.stopping.signal, currentCall()?.signal].filter(
              (signal): signal is AbortSignal => signal !== undefined,
            ),
          ),
        });
        break;
      default:
        break;
    }
    return { message: request.message, callerSubject: callerOf(metadata).subject };
  }
}

@Module({})
export class ProbeModule {
  static forRoot(config: BaseServiceConfig, observations: ProbeObservations): DynamicModule {
    return {
      module: ProbeModule,
      // No database: the platform without the audit trail, which no read-only probe needs.
      imports: [PlatformModule.forService({ service: PROBE_SERVICE_NAME, config })],
      controllers: [ProbeGrpcController],
      providers: [{ provide: ProbeObservations, useValue: observations }],
    };
  }
}

export type LogLine = Record<string, unknown>;

export interface ProbeServer {
  service: RunningGrpcService;
  config: BaseServiceConfig;
  address: string;
  observations: ProbeObservations;
  /** Every JSON line the service logged. */
  logs: LogLine[];
  stop(): Promise<void>;
}

/** Starts the probe service with startGrpcService on a free loopback port. */
export async function startProbeServer(
  auth: TestAuth,
  env: Record<string, string> = {},
): Promise<ProbeServer> {
  const port = await findFreePort();
  const config = loadConfig(
    { service: PROBE_SERVICE_NAME, schema: baseServiceSchema },
    {
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/unused',
      AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(port),
      METRICS_PORT: '0',
      SHUTDOWN_GRACE_MS: '2000',
      // In process, the event loop is the test's too: its lag is not the service's load.
      GRPC_SHED_LAG_MS: '0',
      ...env,
    },
  );
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const observations = new ProbeObservations();
  const service = await startGrpcService({
    name: PROBE_SERVICE_NAME,
    module: ProbeModule.forRoot(config, observations),
    services: [PROBE_SERVICE],
    config,
    logger: createLogger({ service: PROBE_SERVICE_NAME, level: 'info', destination }),
  });
  return {
    service,
    config,
    address: `127.0.0.1:${service.port}`,
    observations,
    logs,
    stop: async () => {
      observations.stopping.abort();
      await service.stop();
    },
  };
}

/** A plain grpc-js client, with no cinode wrapper between the test and the wire. */
export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure());
}

export interface RawCallOptions {
  metadata?: Metadata;
  /** Omitted: the call carries no deadline at all. */
  deadline?: Date;
}

/** Calls Probe over a raw grpc-js client, encoding with the generated ts-proto codec. */
export function rawProbe(
  client: Client,
  request: Partial<ProbeRequest>,
  options: RawCallOptions = {},
): Promise<ProbeResponse> {
  const callOptions: CallOptions = options.deadline ? { deadline: options.deadline } : {};
  return new Promise<ProbeResponse>((resolve, reject) => {
    client.makeUnaryRequest(
      PROBE_PATH,
      (value: ProbeRequest) => Buffer.from(ProbeRequest.encode(value).finish()),
      (bytes: Buffer) => ProbeResponse.decode(bytes),
      { message: '', behaviour: '', delayMs: 0, ...request },
      options.metadata ?? new Metadata(),
      callOptions,
      (error: ServiceError | null, response?: ProbeResponse) => {
        if (error) reject(error);
        else if (response) resolve(response);
        else reject(new Error('Probe returned neither a response nor an error'));
      },
    );
  });
}

/**
 * One bidirectional stream: ask() writes a request and resolves with the next response (the server
 * answers in order), failing after timeoutMs or when the stream fails.
 */
export class BidiSession<Req, Res> {
  private readonly stream: ClientDuplexStream<Req, Res>;
  private readonly waiting: Array<{
    resolve: (value: Res) => void;
    reject: (error: Error) => void;
  }> = [];
  private failure: Error | undefined;
  private readonly finished: Promise<void>;

  constructor(
    client: Client,
    path: string,
    encode: (value: Req) => Uint8Array,
    decode: (bytes: Uint8Array) => Res,
  ) {
    this.stream = client.makeBidiStreamRequest(
      path,
      (value: Req) => Buffer.from(encode(value)),
      (bytes: Buffer) => decode(bytes),
      new Metadata(),
      { deadline: new Date(Date.now() + 30_000) },
    );
    this.stream.on('data', (response: Res) => {
      const next = this.waiting.shift();
      if (next) next.resolve(response);
    });
    this.finished = new Promise<void>((resolve) => {
      this.stream.on('status', () => resolve());
    });
    this.stream.on('error', (error: Error) => {
      this.failure = error;
      for (const pending of this.waiting.splice(0)) pending.reject(error);
    });
  }

  ask(request: Req, timeoutMs = 5_000): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no reply within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.push({
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.stream.write(request);
    });
  }

  /** Resolves with the error the stream failed with; rejects if it has not failed within timeoutMs. */
  async failed(timeoutMs = 5_000): Promise<Error> {
    if (this.failure) return this.failure;
    const [error] = (await once(this.stream, 'error', {
      signal: AbortSignal.timeout(timeoutMs),
    })) as [Error];
    return error;
  }

  /** Half-closes the stream and waits for the server's final status. */
  async close(timeoutMs = 5_000): Promise<void> {
    this.stream.end();
    try {
      await withTimeout(this.finished, timeoutMs, 'the stream to finish');
    } catch (error) {
      this.stream.cancel();
      throw error;
    }
  }
}

/** Resolves as the promise does, or rejects once timeoutMs have passed; the timer never lingers. */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
