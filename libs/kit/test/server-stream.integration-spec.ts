import { status as GrpcStatus, type ClientReadableStream } from '@grpc/grpc-js';
import { DIRECT_DISPATCH, GrpcExceptionFilter, type DirectDispatch } from '@cinode/grpc';
import type { CountResponse } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { createTestAuth, eventually, type TestAuth } from '@cinode/testing';
import { countProbe, openCount, startKitProbe, type KitProbeServer } from './kit-probe';

const COUNT = '/cinode.testing.v1.ProbeService/Count';

/** Reads a stream to its end (or `limit` messages, then cancels); its messages and final status. */
function read(
  stream: ClientReadableStream<CountResponse>,
  limit = Infinity,
): Promise<{ messages: CountResponse[]; code: number; details: string }> {
  return new Promise((resolve) => {
    const messages: CountResponse[] = [];
    stream.on('data', (message: CountResponse) => {
      messages.push(message);
      if (messages.length === limit) stream.cancel();
    });
    stream.on('error', () => undefined);
    stream.on('status', (status: { code: number; details: string }) =>
      resolve({ messages, code: status.code, details: status.details }),
    );
  });
}

describe('the kit serving a server-streaming RPC', () => {
  let auth: TestAuth;
  /** GRPC_MAX_DEADLINE_MS 500: unary calls are cut at half a second, streams are not. */
  let server: KitProbeServer;

  beforeAll(async () => {
    auth = await createTestAuth();
    server = await startKitProbe(auth, { GRPC_MAX_DEADLINE_MS: '500' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  function open(token: string, count: number, delayMs = 0): ClientReadableStream<CountResponse> {
    return openCount(server, token, { count, delayMs });
  }

  it('is served from the grpc-js server directly', () => {
    const dispatch = server.service.app.get<DirectDispatch>(DIRECT_DISPATCH, { strict: false });
    const toStatus = (error: unknown) =>
      new GrpcExceptionFilter('kit-probe.cinode').toPayload(error);
    expect(dispatch.serverStream?.(COUNT, toStatus)).toBeInstanceOf(Function);
    // A stream changes nothing: one declared @Audited is refused when the server is built.
    expect(() =>
      dispatch.serverStream?.('/cinode.testing.v1.ProbeService/Mutate', toStatus),
    ).toThrow(/declare it @ReadOnly/);
  });

  it('writes every message in order and ends OK, past GRPC_MAX_DEADLINE_MS', async () => {
    const token = await auth.token(['regulator'], 'reg-1');
    // 12 messages 60 ms apart: about 720 ms, longer than any unary call may take here.
    const { messages, code } = await read(open(token, 12, 60));
    expect(code).toBe(GrpcStatus.OK);
    expect(messages.map((m) => m.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(new Set(messages.map((m) => m.callerSubject))).toEqual(new Set(['reg-1']));
  });

  it('refuses a caller before the first message, and a bad request with INVALID_ARGUMENT', async () => {
    const refused = await read(open(await auth.token(['operator']), 3));
    expect(refused).toMatchObject({ code: GrpcStatus.PERMISSION_DENIED, messages: [] });
    const anonymous = await read(open('', 3));
    expect(anonymous).toMatchObject({ code: GrpcStatus.UNAUTHENTICATED, messages: [] });
    const invalid = await read(open(await auth.token(['regulator']), -1));
    expect(invalid).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, messages: [] });
  });

  it('stops the handler when the caller hangs up on an endless stream', async () => {
    const finished = countProbe.finished;
    const { messages, code } = await read(open(await auth.token(['regulator']), 0, 5), 20);
    expect(code).toBe(GrpcStatus.CANCELLED);
    expect(messages).toHaveLength(20);
    // The generator's finally ran: it was let go, not left producing.
    await eventually('the handler to be let go', async () =>
      countProbe.finished > finished ? true : undefined,
    );
    const produced = countProbe.produced;
    await eventually('no more messages produced', async () => {
      const before = countProbe.produced;
      await new Promise((r) => setTimeout(r, 50));
      return countProbe.produced === before ? true : undefined;
    });
    expect(countProbe.produced - produced).toBeLessThanOrEqual(1);
  });
});
