import { randomUUID } from 'node:crypto';
import { Client, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { ROLES, type Role } from '@cinode/auth';
import { AUTHORIZATION_MATRIX } from './support/authorization-matrix';
import { nodeRpcs } from './support/hostile-messages';
import { callWithEmptyRequest } from './support/raw-calls';
import { startNode, type NodeUnderTest } from './support/node-processes';

/**
 * Issue 10: every RPC of every service, called as every role and without a token, with an empty
 * request. Where the declared matrix (support/authorization-matrix.ts) allows the caller, the call
 * must get past authorization (it may still fail for business reasons: an empty request is rarely
 * valid); elsewhere it is refused, UNAUTHENTICATED without a token, PERMISSION_DENIED
 * (ROLE_NOT_ALLOWED) with one. An RPC served but missing from the matrix fails the test.
 * Issue 9: so a regulator token is refused by every RPC that changes state, checked one by one.
 */
const AUDIT_SERVICE = 'cinode.audit.v1.AuditService';
const NATIONAL_PACKAGE = 'cinode.national.';
const IN_FLIGHT = 8;
/** How authorization refuses a token: a role not admitted, or a service the RPC does not name. */
const REFUSALS = new Set(['ROLE_NOT_ALLOWED', 'SERVICE_NOT_ALLOWED']);

/**
 * `service` is the identifier service's identity; `service:service-center` the service center's,
 * for the RPCs only it may call (`@ServiceCallers`).
 */
type Caller = Role | 'none' | 'service:service-center';
const CALLERS: Caller[] = ['none', ...ROLES, 'service:service-center'];
/** The token subject of each service identity the sweep calls as. */
const SERVICE_SUBJECTS: Record<string, string> = {
  service: 'identifier',
  'service:service-center': 'service-center',
};

let node: NodeUnderTest;

beforeAll(async () => {
  node = await startNode({ tokenTtlSeconds: 300 });
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

/** Whether the declared rule lets this caller in. */
function allowed(rule: (typeof AUTHORIZATION_MATRIX)[string], caller: Caller): boolean {
  if (rule === 'public') return true;
  if (caller === 'none') return false;
  if (rule === 'authenticated') return true;
  const subject = SERVICE_SUBJECTS[caller];
  // A service identity: the service role unnarrowed, or narrowed to this service.
  if (subject !== undefined) return rule.includes('service') || rule.includes(`service:${subject}`);
  return rule.includes(caller);
}

it('declares every RPC the node serves, and nothing it does not', () => {
  const served = nodeRpcs().map((rpc) => rpc.path);
  const declared = Object.keys(AUTHORIZATION_MATRIX);
  expect(served.filter((path) => !declared.includes(path))).toEqual([]);
  expect(declared.filter((path) => !served.includes(path))).toEqual([]);
});

it('lets in exactly the callers the matrix declares, on every RPC of every service', async () => {
  const services = node.serviceAddresses();
  const targets = nodeRpcs().flatMap((rpc) =>
    rpc.service === AUDIT_SERVICE
      ? [...services].map(([name, address]) => ({ rpc, name, address }))
      : [{ rpc, name: rpc.service, address: node.addressOf(rpc.service) }],
  );
  const nationalAddress = services.get('national-node-mock');
  const tokens = new Map<string, string>();
  const tokenFor = async (caller: Caller, national: boolean): Promise<string> => {
    if (caller === 'none') return '';
    const key = `${caller}:${national}`;
    let token = tokens.get(key);
    if (!token) {
      // The national node mock takes tokens for its own audience only.
      const subject = SERVICE_SUBJECTS[caller];
      const role: Role = subject === undefined ? (caller as Role) : 'service';
      token = national
        ? await node.auth.nationalToken([role])
        : await node.auth.token([role], subject ?? randomUUID());
      tokens.set(key, token);
    }
    return token;
  };
  const clients = new Map<string, Client>();
  const clientFor = (address: string): Client => {
    let client = clients.get(address);
    if (!client) {
      client = new Client(address, credentials.createInsecure());
      clients.set(address, client);
    }
    return client;
  };

  const jobs = targets.flatMap((target) => CALLERS.map((caller) => ({ ...target, caller })));
  const wrong: string[] = [];
  let refused = 0;
  let admitted = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const { rpc, name, address, caller } = jobs[next++];
      const national = rpc.service.startsWith(NATIONAL_PACKAGE) || address === nationalAddress;
      const outcome = await callWithEmptyRequest(
        clientFor(address),
        rpc,
        await tokenFor(caller, national),
      );
      const rule = AUTHORIZATION_MATRIX[rpc.path];
      const where = `${rpc.path} on ${name} as ${caller}`;
      const got = `${GrpcStatus[outcome.code]} ${outcome.reason} ${outcome.details}`.trim();
      if (allowed(rule, caller)) {
        admitted += 1;
        // Refused by authorization, not by the RPC's own rules (IssueToken, public, answers an
        // unknown API key with UNAUTHENTICATED API_KEY_INVALID: that is its business).
        const refusedByAuth =
          (outcome.code === GrpcStatus.UNAUTHENTICATED && outcome.reason.startsWith('TOKEN_')) ||
          (outcome.code === GrpcStatus.PERMISSION_DENIED && REFUSALS.has(outcome.reason));
        if (refusedByAuth) wrong.push(`${where}: declared allowed, got ${got}`);
      } else {
        refused += 1;
        const expected =
          caller === 'none' ? GrpcStatus.UNAUTHENTICATED : GrpcStatus.PERMISSION_DENIED;
        if (
          outcome.code !== expected ||
          (expected === GrpcStatus.PERMISSION_DENIED && !REFUSALS.has(outcome.reason))
        )
          wrong.push(`${where}: declared refused, got ${got}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    for (const client of clients.values()) client.close();
  }
  console.log(
    `authorization matrix: ${jobs.length} calls over ${targets.length} RPC endpoints x ` +
      `${CALLERS.length} callers: ${admitted} let in as declared, ${refused} refused as declared, ` +
      `${wrong.length} wrong`,
  );
  expect(wrong).toEqual([]);
  // Both halves of the matrix were exercised.
  expect(admitted).toBeGreaterThan(100);
  expect(refused).toBeGreaterThan(100);
}, 300_000);

it('refuses a regulator on every RPC that changes state, as each service declares them', async () => {
  // The RPCs each service itself says change state (@Audited, published as cinode_rpc_declared);
  // the sweep above checked every one of them against the matrix, so the matrix's regulator row
  // is what a regulator's token gets. Public RPCs (registering as a participant, exchanging an
  // API key for a token) are anyone's.
  const audited = new Set<string>();
  for (const name of node.serviceAddresses().keys()) {
    const text = await (await fetch(`http://127.0.0.1:${node.metricsPortOf(name)}/metrics`)).text();
    for (const match of text.matchAll(/^cinode_rpc_declared\{([^}]*)\} 1$/gm))
      if (match[1].includes('kind="audited"')) audited.add(/rpc="([^"]*)"/.exec(match[1])![1]);
  }
  const mutating = Object.entries(AUTHORIZATION_MATRIX).filter(([path, rule]) => {
    const [, qualified, method] = path.split('/');
    return (
      rule !== 'public' &&
      audited.has(`${qualified.slice(qualified.lastIndexOf('.') + 1)}/${method}`)
    );
  });
  expect(mutating.length).toBeGreaterThan(30);
  const letIn = mutating.filter(([, rule]) => allowed(rule, 'regulator')).map(([path]) => path);
  expect(letIn).toEqual([]);
});
