import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  GrpcExceptionFilter,
  createGrpcClient,
  decodeRichStatus,
  isGrpcError,
  type GrpcClient,
} from '@cinode/grpc';
import type { ProbeServiceClient } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { createTestAuth, expectGrpcError, plaintext } from '@cinode/testing';
import {
  CRASH_TEXT,
  PROBE_DOMAIN,
  PROBE_SERVICE,
  startProbeServer,
  type ProbeServer,
} from './probe-server';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

async function rejectionOf(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (error) {
    if (isGrpcError(error)) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

describe(GrpcExceptionFilter.name, () => {
  let server: ProbeServer;
  let client: GrpcClient<ProbeServiceClient>;

  beforeAll(async () => {
    const auth = await createTestAuth();
    server = await startProbeServer(auth);
    const token = await auth.token(['operator'], 'op-1');
    client = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
      address: server.address,
      credentials: plaintext(),
      token: () => token,
      defaultTimeoutMs: 5_000,
    });
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('answers a well-behaved call', async () => {
    await expect(client.api.probe({ message: 'hi', behaviour: '', delayMs: 0 })).resolves.toEqual({
      message: 'hi',
      callerSubject: 'op-1',
    });
  });

  it('sends a validation error as INVALID_ARGUMENT with BadRequest field violations and ErrorInfo', async () => {
    const { details, status } = await expectGrpcError(
      client.api.probe({ message: 'rude', behaviour: 'validation', delayMs: 0 }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(status).toBeDefined();
    expect(status?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(status?.message).toBe(details);
    expect(status?.fieldViolations).toEqual([
      { field: 'message', description: 'must not be rude' },
    ]);
    expect(status?.errorInfo).toMatchObject({ reason: 'INVALID_REQUEST', domain: PROBE_DOMAIN });
  });

  it('sends a not-found error as NOT_FOUND with its reason', async () => {
    const { details, status } = await expectGrpcError(
      client.api.probe({ message: 'p-404', behaviour: 'not_found', delayMs: 0 }),
      GrpcStatus.NOT_FOUND,
    );
    expect(details).toBe('probe p-404 does not exist');
    expect(status?.code).toBe(GrpcStatus.NOT_FOUND);
    expect(status?.errorInfo).toMatchObject({ reason: 'PROBE_NOT_FOUND', domain: PROBE_DOMAIN });
    expect(status?.fieldViolations).toEqual([]);
  });

  it('turns an unexpected error into INTERNAL with a correlation id and no error text or stack', async () => {
    const error = await rejectionOf(
      client.api.probe({ message: 'x', behaviour: 'crash', delayMs: 0 }),
    );
    expect(error.code).toBe(GrpcStatus.INTERNAL);

    const correlationId = UUID.exec(error.details)?.[0];
    expect(correlationId).toBeDefined();
    // Nothing of the thrown error may reach the caller: not its text, not a stack frame, not a path.
    const everythingSent = [
      error.details,
      error.message,
      ...Object.entries(error.metadata.getMap()).map(
        ([key, value]) => `${key}=${Buffer.isBuffer(value) ? value.toString('latin1') : value}`,
      ),
    ].join('\n');
    for (const leak of [
      'boom',
      'secret',
      'stack detail',
      '    at ',
      '.ts:',
      '.js:',
      '/work/',
      'node_modules',
    ]) {
      expect(everythingSent).not.toContain(leak);
    }

    const status = decodeRichStatus(error);
    expect(status?.code).toBe(GrpcStatus.INTERNAL);
    expect(status?.requestId).toBe(correlationId);
    expect(status?.errorInfo).toMatchObject({ reason: 'INTERNAL', domain: PROBE_DOMAIN });
    expect(status?.message).not.toContain('boom');

    // The stack goes to the log instead, under the same correlation id.
    const logged = server.logs.find((line) => line.correlationId === correlationId);
    expect(logged).toBeDefined();
    expect(logged?.level).toBe('error');
    expect(JSON.stringify(logged?.err)).toContain(CRASH_TEXT);
    expect(JSON.stringify(logged?.err)).toContain('    at ');
  });

  it('gives every unexpected error its own correlation id', async () => {
    const crash = () =>
      expectGrpcError(
        client.api.probe({ message: 'x', behaviour: 'crash', delayMs: 0 }),
        GrpcStatus.INTERNAL,
      );
    const [first, second] = await Promise.all([crash(), crash()]);
    expect(first.status?.requestId).toMatch(UUID);
    expect(second.status?.requestId).toMatch(UUID);
    expect(first.status?.requestId).not.toBe(second.status?.requestId);
  });
});
