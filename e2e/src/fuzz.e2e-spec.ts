import { randomUUID } from 'node:crypto';
import { Client, Metadata, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { checkGrpcHealth } from '@cinode/local-infra';
import { seededRandom } from '@cinode/common';
import { HostileMessages, nodeRpcs, type Rpc } from './support/hostile-messages';
import { startNode, type NodeUnderTest } from './support/node-processes';

/**
 * Issue 7, item 6: hostile input never reaches the caller as INTERNAL or UNKNOWN. The built node
 * (every service as a process) gets FUZZ_MESSAGES messages (default 20,000) spread over every RPC
 * of every service, as each role and without a token: random bytes, and well-formed messages with
 * hostile values (NUL, 70 kB strings, extreme numbers, NaN, unknown enums, timestamps out of any
 * range, thousands of repeated items). Afterwards every service must still be SERVING. The seed is
 * printed; FUZZ_SEED replays a run.
 */
const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const IN_FLIGHT = 16;
const AUDIT_SERVICE = 'cinode.audit.v1.AuditService';
const CALL_DEADLINE_MS = 10_000;

/** Codes that mean the server failed rather than refused: none may come back. */
const SERVER_FAILURES = new Set([GrpcStatus.INTERNAL, GrpcStatus.UNKNOWN]);

interface Outcome {
  rpc: string;
  role: string;
  kind: 'random bytes' | 'hostile message';
  code: GrpcStatus;
  details: string;
}

let node: NodeUnderTest;

beforeAll(async () => {
  node = await startNode({ tokenTtlSeconds: 300 });
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

/** How long a server-streaming call is read before the fuzzer hangs up (a feed never ends). */
const STREAM_READ_MS = 300;

/**
 * A server-streaming RPC: its outcome is its status, or OK once it has sent a message or kept
 * streaming for STREAM_READ_MS (then the fuzzer cancels it, as a caller walking away would).
 */
function streamCall(
  client: Client,
  path: string,
  body: Buffer,
  metadata: Metadata,
): Promise<{ code: GrpcStatus; details: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: { code: GrpcStatus; details: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
      stream.cancel();
    };
    const stream = client.makeServerStreamRequest(
      path,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      body,
      metadata,
      { deadline: Date.now() + CALL_DEADLINE_MS },
    );
    const timer = setTimeout(() => settle({ code: GrpcStatus.OK, details: '' }), STREAM_READ_MS);
    stream.on('data', () => settle({ code: GrpcStatus.OK, details: '' }));
    stream.on('status', (status: { code: GrpcStatus; details: string }) =>
      settle({ code: status.code, details: status.details }),
    );
    stream.on('error', () => undefined);
  });
}

function call(
  client: Client,
  rpc: Rpc,
  body: Buffer,
  token: string,
): Promise<{ code: GrpcStatus; details: string }> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const path = rpc.path;
  if (rpc.responseStream) return streamCall(client, path, body, metadata);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      body,
      metadata,
      { deadline: Date.now() + CALL_DEADLINE_MS },
      (error) =>
        resolve(
          error
            ? { code: error.code, details: error.details }
            : { code: GrpcStatus.OK, details: '' },
        ),
    );
  });
}

it(`answers ${MESSAGES} hostile messages across every RPC without INTERNAL or UNKNOWN, and keeps serving`, async () => {
  const random = seededRandom(SEED);
  const hostile = new HostileMessages(random);
  // Every RPC where it is served: the audit trail's on every service, the rest where its manifest says.
  const everyService = [...node.serviceAddresses()];
  const rpcs: (Rpc & { address: string })[] = nodeRpcs().flatMap((rpc) =>
    rpc.service === AUDIT_SERVICE
      ? everyService.map(([, address]) => ({ ...rpc, address }))
      : [{ ...rpc, address: node.addressOf(rpc.service) }],
  );
  const auth = node.auth;
  const roles: [string, string][] = [
    ['none', ''],
    ['operator', await auth.token(['operator'], 'op-fuzz')],
    ['regulator', await auth.token(['regulator'], 'reg-fuzz')],
    ['provider', await auth.token(['provider'], randomUUID())],
    ['reseller', await auth.token(['reseller'], randomUUID())],
    ['service', await auth.token(['service'], 'identifier')],
  ];
  const clients = new Map<string, Client>();
  const clientFor = ({ address }: { address: string }): Client => {
    let client = clients.get(address);
    if (!client) {
      client = new Client(address, credentials.createInsecure());
      clients.set(address, client);
    }
    return client;
  };

  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < MESSAGES) {
      const index = next++;
      const rpc = rpcs[index % rpcs.length];
      // Operators may call most RPCs: half the calls are theirs, so more reach the handlers.
      const [role, token] = random() < 0.5 ? roles[1] : roles[Math.floor(random() * roles.length)];
      const kind = random() < 0.2 ? 'random bytes' : 'hostile message';
      const body =
        kind === 'random bytes' ? hostile.randomBytes(300) : hostile.encode(rpc.requestType);
      const { code, details } = await call(clientFor(rpc), rpc, body, token);
      outcomes.push({ rpc: `${rpc.address}${rpc.path}`, role, kind, code, details });
    }
  };
  const started = Date.now();
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    for (const client of clients.values()) client.close();
  }
  const seconds = (Date.now() - started) / 1000;

  // The counts, for the log and the issue note.
  const byCode = new Map<string, number>();
  for (const outcome of outcomes) {
    const name = GrpcStatus[outcome.code] ?? String(outcome.code);
    byCode.set(name, (byCode.get(name) ?? 0) + 1);
  }
  const failures = outcomes.filter((o) => SERVER_FAILURES.has(o.code));
  console.log(
    [
      `fuzz: seed ${SEED}, ${outcomes.length} messages over ${rpcs.length} RPCs in ${seconds.toFixed(1)} s`,
      `  by status: ${[...byCode]
        .sort()
        .map(([code, n]) => `${code} ${n}`)
        .join(', ')}`,
      `  INTERNAL or UNKNOWN: ${failures.length}`,
      ...failures
        .slice(0, 20)
        .map(
          (f) =>
            `    ${f.rpc} as ${f.role}, ${f.kind}: ${GrpcStatus[f.code]} ${f.details.slice(0, 200)}`,
        ),
    ].join('\n'),
  );
  expect(outcomes).toHaveLength(MESSAGES);
  expect(new Set(outcomes.map((o) => o.rpc)).size).toBe(rpcs.length);
  expect(failures.map((f) => `${f.rpc} as ${f.role}, ${f.kind}: ${f.details}`)).toEqual([]);

  for (const [name, address] of everyService) {
    await expect(checkGrpcHealth(address)).resolves.toBe('SERVING');
    expect(node.exitCodeOf(name)).toBeNull();
  }
}, 600_000);
