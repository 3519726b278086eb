import { Controller, Module, type DynamicModule } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { baseServiceSchema, loadConfig, type BaseServiceConfig } from '@cinode/config';
import {
  createGrpcClient,
  startGrpcService,
  type GrpcClient,
  type RunningGrpcService,
} from '@cinode/grpc';
import { createLogger } from '@cinode/logging';
import type {
  ProbeRequest,
  ProbeResponse,
  ProbeServiceClient,
  UndeclaredRequest,
  UndeclaredResponse,
} from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import {
  bearer,
  createTestAuth,
  expectGrpcError,
  findFreePort,
  type TestAuth,
  plaintext,
} from '@cinode/testing';
import {
  AllowRoles,
  Authorizer,
  TokenIssuer,
  callerOf,
  generateSigningKey,
  parseJwks,
  type SigningKey,
} from '@cinode/auth';
import { ReadOnly } from '@cinode/audit';
import { PlatformModule } from '@cinode/kit';

const SERVICE_NAME = 'auth-probe';
const DOMAIN = `${SERVICE_NAME}.cinode`;

@Controller()
class AuthProbeGrpcController {
  @GrpcMethod('ProbeService', 'Probe')
  @AllowRoles('operator', 'regulator')
  @ReadOnly()
  probe(request: ProbeRequest, metadata: Metadata): ProbeResponse {
    return { message: request.message, callerSubject: callerOf(metadata).subject };
  }
}

/** Implements an RPC that declares no access rule: the service must refuse to start. */
@Controller()
class UndeclaredGrpcController {
  @GrpcMethod('ProbeService', 'Undeclared')
  @ReadOnly()
  undeclared(request: UndeclaredRequest): UndeclaredResponse {
    return { message: request.message };
  }
}

@Module({})
class AuthProbeModule {
  static forRoot(config: BaseServiceConfig, undeclared = false): DynamicModule {
    return {
      module: AuthProbeModule,
      imports: [PlatformModule.forService({ service: SERVICE_NAME, config })],
      controllers: undeclared
        ? [AuthProbeGrpcController, UndeclaredGrpcController]
        : [AuthProbeGrpcController],
    };
  }
}

const request = { message: 'hello', behaviour: '', delayMs: 0 };

describe(`${Authorizer.name} in the call pipeline`, () => {
  let auth: TestAuth;
  /** A second trusted key, as during a key rotation. */
  let rotated: SigningKey;
  let service: RunningGrpcService;
  let client: GrpcClient<ProbeServiceClient>;
  let config: BaseServiceConfig;

  beforeAll(async () => {
    auth = await createTestAuth();
    rotated = await generateSigningKey('rotated-key');
    const trusted = { keys: [...parseJwks(auth.publicKeys).keys, rotated.publicJwk] };
    config = loadConfig(
      { service: SERVICE_NAME, schema: baseServiceSchema },
      {
        DATABASE_URL: 'postgres://u:p@127.0.0.1:1/unused',
        AUTH_JWT_PUBLIC_KEYS: JSON.stringify(trusted),
        GRPC_PORT: String(await findFreePort()),
        METRICS_PORT: '0',
        SHUTDOWN_GRACE_MS: '1000',
        // In process, the event loop is the test's too: its lag is not the service's load.
        GRPC_SHED_LAG_MS: '0',
      },
    );
    service = await startGrpcService({
      name: SERVICE_NAME,
      module: AuthProbeModule.forRoot(config),
      services: ['cinode.testing.v1.ProbeService'],
      config,
      logger: createLogger({ service: SERVICE_NAME, level: 'silent' }),
    });
    client = createGrpcClient<ProbeServiceClient>('cinode.testing.v1.ProbeService', {
      address: `127.0.0.1:${service.port}`,
      credentials: plaintext(),
      defaultTimeoutMs: 5_000,
    });
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
  });

  const withToken = (token: string) => ({ metadata: bearer(token) });

  it('lets an allowed caller in and hands the handler its verified identity', async () => {
    const token = await auth.token(['operator'], 'op-7');
    await expect(client.api.probe(request, withToken(token))).resolves.toEqual({
      message: 'hello',
      callerSubject: 'op-7',
    });
    const regulator = await auth.token(['user', 'regulator'], 'reg-1');
    await expect(client.api.probe(request, withToken(regulator))).resolves.toMatchObject({
      callerSubject: 'reg-1',
    });
  });

  it('rejects a call without a token as UNAUTHENTICATED', async () => {
    const { status } = await expectGrpcError(client.api.probe(request), GrpcStatus.UNAUTHENTICATED);
    expect(status?.errorInfo).toMatchObject({ reason: 'TOKEN_MISSING', domain: DOMAIN });
  });

  it('rejects an authorization header that is not a bearer token as UNAUTHENTICATED', async () => {
    const metadata = new Metadata();
    metadata.set('authorization', 'Basic b3A6c2VjcmV0');
    const { status } = await expectGrpcError(
      client.api.probe(request, { metadata }),
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(status?.errorInfo?.reason).toBe('TOKEN_MISSING');
  });

  it('rejects a caller whose roles are not allowed as PERMISSION_DENIED with ROLE_NOT_ALLOWED', async () => {
    const token = await auth.token(['user', 'provider'], 'u-1');
    const { status } = await expectGrpcError(
      client.api.probe(request, withToken(token)),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(status?.errorInfo).toMatchObject({
      reason: 'ROLE_NOT_ALLOWED',
      domain: DOMAIN,
      metadata: { allowed_roles: 'operator,regulator' },
    });
  });

  it('rejects an expired token as UNAUTHENTICATED', async () => {
    const token = await auth.token(['operator'], 'op-7', undefined, -60);
    const { status } = await expectGrpcError(
      client.api.probe(request, withToken(token)),
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(status?.errorInfo?.reason).toBe('TOKEN_EXPIRED');
  });

  it('rejects a token signed by another key, even one reusing a trusted key id, as UNAUTHENTICATED', async () => {
    // createTestAuth always names its key "test-key", so this token points at a trusted kid.
    const impostor = await createTestAuth();
    const token = await impostor.token(['operator'], 'op-7');
    const { status } = await expectGrpcError(
      client.api.probe(request, withToken(token)),
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(status?.errorInfo?.reason).toBe('TOKEN_INVALID');

    const stranger = new TokenIssuer(await generateSigningKey('unknown-kid'), {
      issuer: 'cinode',
      audience: 'cinode',
    });
    const strangerToken = await stranger.issue({
      subject: 'op-7',
      roles: ['operator'],
      ttlSeconds: 60,
    });
    await expectGrpcError(
      client.api.probe(request, withToken(strangerToken)),
      GrpcStatus.UNAUTHENTICATED,
    );
  });

  it('accepts tokens signed by any trusted key, so signing keys can rotate', async () => {
    const token = await new TokenIssuer(rotated, { issuer: 'cinode', audience: 'cinode' }).issue({
      subject: 'op-rotated',
      roles: ['operator'],
      ttlSeconds: 60,
    });
    await expect(client.api.probe(request, withToken(token))).resolves.toMatchObject({
      callerSubject: 'op-rotated',
    });
  });

  it('rejects a token from a trusted key for another audience or issuer as UNAUTHENTICATED', async () => {
    for (const [settings, reason] of [
      [{ issuer: 'cinode', audience: 'somewhere-else' }, 'TOKEN_AUDIENCE_MISMATCH'],
      [{ issuer: 'someone-else', audience: 'cinode' }, 'TOKEN_INVALID'],
    ] as const) {
      const token = await new TokenIssuer(rotated, settings).issue({
        subject: 'op-7',
        roles: ['operator'],
        ttlSeconds: 60,
      });
      const { status } = await expectGrpcError(
        client.api.probe(request, withToken(token)),
        GrpcStatus.UNAUTHENTICATED,
      );
      expect(status?.errorInfo?.reason).toBe(reason);
    }
  });

  it('refuses to start a service with an RPC that declares no access rule', async () => {
    await expect(
      startGrpcService({
        name: SERVICE_NAME,
        module: AuthProbeModule.forRoot({ ...config, GRPC_PORT: await findFreePort() }, true),
        services: ['cinode.testing.v1.ProbeService'],
        config: { ...config, GRPC_PORT: await findFreePort() },
        logger: createLogger({ service: SERVICE_NAME, level: 'silent' }),
      }),
    ).rejects.toThrow(/UndeclaredGrpcController.undeclared declares no access rule/);
  });
});
