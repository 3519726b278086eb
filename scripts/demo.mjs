// `npm run demo`: walks the entry-to-market flow against a node started with `npm start` (in another
// terminal) and prints each step: the operator certifies a compute provider, the provider gets an
// API key and a token, issues an identifier for a resource pool, and the identifier is filed at
// the national node mock. Then the market: a certified user states a demand the pools of the
// provider agent `npm start` runs (in simulation) can meet, gets ranked candidates with their
// score breakdown and network path, and which constraint eliminated how many pools; orders the
// best one (its capacity held and confirmed); and follows the order while the agent runs the task
// through to completed. Every run registers new participants, so it can be run again and again.
//
//   npm run demo
//
// Uses the built code in dist/ and the bootstrap operator's key that `npm start` keeps in
// .data/secrets/operator-bootstrap-key; service addresses come from services/*/service.json.
// Talks gRPC only. Exits non-zero, saying why, when a step fails.
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './lib/bootstrap.mjs';
import { paint } from './lib/output.mjs';

if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
  const lines = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  console.log(
    lines
      .slice(0, end)
      .map((l) => l.slice(3))
      .join('\n'),
  );
  process.exit(0);
}

const FILING_TIMEOUT_MS = 30_000;
const ISSUE_TIMEOUT_MS = 20_000;
const POLL_MS = 250;
const CALL_TIMEOUT_MS = 5_000;
/** How long the agent may take to run the demo's task (its simulated tasks take seconds). */
const TASK_TIMEOUT_MS = 90_000;

/** gRPC status codes used here (grpc-js numbering). */
const GRPC = { DEADLINE_EXCEEDED: 4, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 };
/** What main() loads from dist/ and the helpers below use. */
const helpers = {};

class DemoError extends Error {}

const fail = (message) => {
  throw new DemoError(message);
};

const require = createRequire(import.meta.url);
const clients = [];

try {
  await main();
  process.exitCode = 0;
} catch (error) {
  process.stdout.write('\n');
  console.error(paint(31, `demo failed: ${describeError(error)}`));
  process.exitCode = 1;
} finally {
  for (const client of clients) client.close();
}

async function main() {
  // --- What `npm start` leaves behind ------------------------------------------------------------
  const dist = (...parts) => join(ROOT, 'dist', 'libs', ...parts);
  for (const file of [
    dist('grpc', 'src', 'index.js'),
    dist('local-infra', 'src', 'index.js'),
    dist('proto', 'src', 'gen', 'cinode', 'participant', 'v1', 'participant_service.js'),
    dist('proto', 'src', 'gen', 'cinode', 'identifier', 'v1', 'identifier_service.js'),
  ]) {
    if (!existsSync(file)) fail(`${file} is missing: run npm start first (it builds dist/)`);
  }
  const keyFile = join(ROOT, '.data', 'secrets', 'operator-bootstrap-key');
  if (!existsSync(keyFile)) {
    fail(`${keyFile} is missing: run npm start first (it generates the bootstrap operator's key)`);
  }
  const bootstrapKey = readFileSync(keyFile, 'utf8').trim();

  const { createGrpcClient, decodeRichStatus, fromTimestamp, isGrpcError } = require(
    dist('grpc', 'src', 'index.js'),
  );
  const { waitForGrpcServing } = require(dist('local-infra', 'src', 'index.js'));
  // npm start runs the node in plaintext on loopback.
  const { credentials } = require('@grpc/grpc-js');
  const { ParticipantKind, ParticipantState, UserCategory } = require(
    dist('proto', 'src', 'gen', 'cinode', 'participant', 'v1', 'participant_service.js'),
  );
  const { PoolState } = require(
    dist('proto', 'src', 'gen', 'cinode', 'resource', 'v1', 'resource_service.js'),
  );
  const { OrderState } = require(
    dist('proto', 'src', 'gen', 'cinode', 'market', 'v1', 'market_service.js'),
  );
  const { PathKind } = require(
    dist('proto', 'src', 'gen', 'cinode', 'selection', 'v1', 'selection_service.js'),
  );
  const { IdentifierState, ObjectType } = require(
    dist('proto', 'src', 'gen', 'cinode', 'identifier', 'v1', 'identifier_service.js'),
  );
  Object.assign(helpers, { decodeRichStatus, fromTimestamp, isGrpcError });

  const address = {};
  for (const name of [
    'service-center',
    'identifier',
    'national-node-mock',
    'resource-aggregation',
    'compute-selection',
  ]) {
    const file = join(ROOT, 'services', name, 'service.json');
    if (!existsSync(file)) fail(`${file} is missing: this checkout has no ${name} service`);
    address[name] = `127.0.0.1:${JSON.parse(readFileSync(file, 'utf8')).grpcPort}`;
  }
  for (const [name, at] of Object.entries(address)) {
    try {
      await waitForGrpcServing(at, { timeoutMs: 3_000 });
    } catch {
      fail(`${name} does not answer on ${at}: run npm start first (in another terminal)`);
    }
  }

  const client = (service, at) => {
    const created = createGrpcClient(service, {
      address: at,
      credentials: credentials.createInsecure(),
      defaultTimeoutMs: CALL_TIMEOUT_MS,
    });
    clients.push(created);
    return created.api;
  };
  const center = address['service-center'];
  const tokens = client('cinode.credential.v1.TokenService', center);
  const participants = client('cinode.participant.v1.ParticipantService', center);
  const certification = client('cinode.participant.v1.CertificationService', center);
  const identifiers = client('cinode.identifier.v1.IdentifierService', address.identifier);
  const national = client('cinode.national.v1.NationalNodeService', address['national-node-mock']);
  const resources = client('cinode.resource.v1.ResourceService', address['resource-aggregation']);
  const market = client('cinode.market.v1.MarketService', center);

  console.log(paint(1, 'cinode demo: a compute provider enters the market\n'));
  console.log(
    `service center ${center}, identifier ${address.identifier}, national node mock ${address['national-node-mock']}\n`,
  );

  // --- 1. The operator ---------------------------------------------------------------------------
  const operator = await step('The operator exchanges its bootstrap API key for a token', () =>
    tokens.issueToken({ apiKey: bootstrapKey }),
  );
  const asOperator = bearer(operator.accessToken);
  done(
    `operator ${operator.participantId} (key cin_${bootstrapKey.slice(4, 12)}_…), roles ${operator.roles.join(', ')}, token valid until ${time(operator.expiresAt)}`,
  );

  // --- 2. A compute provider registers -----------------------------------------------------------
  const requestId = `demo-${randomUUID()}`;
  const suffix = requestId.slice(5, 13);
  const providerName = `Demo Compute Co. ${suffix}`;
  const creditCode = randomCreditCode();
  const { participant } = await step(
    `A compute provider registers as "${providerName}" (credit code ${creditCode})`,
    () =>
      participants.createParticipant({
        requestId,
        kind: ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
        userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
        name: providerName,
        organization: {
          creditCode,
          address: '88 Zhangjiang Road, Pudong New Area, Shanghai',
          contactPerson: {
            name: 'Li Lei',
            title: 'Operations manager',
            mobile: '13800138000',
            email: 'li.lei@example.cn',
          },
          responsiblePerson: {
            name: 'Han Meimei',
            title: 'General manager',
            mobile: '13900139000',
            email: 'han.meimei@example.cn',
          },
        },
      }),
  );
  const providerId = participant.id;
  done(
    `participant ${providerId}, state ${stateName(ParticipantState, participant.state)} (request id ${requestId})`,
  );

  // --- 3. Review and certification ---------------------------------------------------------------
  const reviewed = await step('The operator starts the review', () =>
    certification.startReview(
      { participantId: providerId, reason: 'business licence received' },
      asOperator,
    ),
  );
  done(`state ${stateName(ParticipantState, reviewed.participant.state)}`);

  const certified = await step('The operator certifies the provider', () =>
    certification.certifyParticipant(
      // A request id makes a retried certification safe: it certifies once.
      {
        participantId: providerId,
        reason: 'licence and credit code verified',
        requestId: randomUUID(),
      },
      asOperator,
    ),
  );
  const issuedKey = certified.issuedApiKey;
  const providerKey = issuedKey.apiKeySecret;
  done(
    `state ${stateName(ParticipantState, certified.participant.state)}; API key ${issuedKey.apiKey.id} issued, prefix ${issuedKey.apiKey.prefix} (the full key is shown to the provider once and not printed here)`,
  );

  // --- 4. The provider's token -------------------------------------------------------------------
  const provider = await step('The provider exchanges its API key for a token', () =>
    tokens.issueToken({ apiKey: providerKey }),
  );
  const asProvider = bearer(provider.accessToken);
  done(
    `participant ${provider.participantId}, roles ${provider.roles.join(', ')}, token valid until ${time(provider.expiresAt)}`,
  );

  // --- 5. An identifier for a resource pool ------------------------------------------------------
  const poolName = `Shanghai GPU pool ${suffix}`;
  const issueRequestId = `demo-${randomUUID()}`;
  const issued = await step(
    `The provider registers resource pool "${poolName}" and asks for its identifier`,
    () =>
      // The identifier service learns of the certification through an event; until then (a moment)
      // it answers FAILED_PRECONDITION, and UNAVAILABLE while the node is not yet registered with
      // the national node. The same request id makes the retries safe.
      retrying(
        [GRPC.UNAVAILABLE, GRPC.FAILED_PRECONDITION],
        () =>
          identifiers.issueIdentifier(
            {
              requestId: issueRequestId,
              objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
              objectName: poolName,
              ownerParticipantId: '',
              ownerName: providerName,
              ownerCreditCode: creditCode,
              attributes: { region: '310115', accelerator: 'GPU', capacity_pflops: '120' },
            },
            asProvider,
          ),
        ISSUE_TIMEOUT_MS,
      ),
  );
  const identifier = issued.identifier.identifier;
  done(
    `identifier ${paint(1, identifier)}, state ${stateName(IdentifierState, issued.identifier.state)}`,
  );

  // --- 6. Filing with the national node ----------------------------------------------------------
  process.stdout.write(
    `${paint(36, '→')} Waiting for the identifier to be filed with the national node `,
  );
  const started = Date.now();
  let record;
  for (;;) {
    ({ identifier: record } = await identifiers.resolveIdentifier({ identifier }, asProvider));
    if (record.state === IdentifierState.IDENTIFIER_STATE_FILED) break;
    if (record.filingError) fail(`the national node rejected the filing: ${record.filingError}`);
    if (Date.now() - started > FILING_TIMEOUT_MS) {
      fail(
        `${identifier} is still ${stateName(IdentifierState, record.state)} after ${FILING_TIMEOUT_MS / 1000} s; is the national node mock in an injected outage?`,
      );
    }
    process.stdout.write('.');
    await sleep(POLL_MS);
  }
  process.stdout.write('\n');
  done(
    `state ${stateName(IdentifierState, record.state)}, filing number ${record.filingNumber}, filed at ${time(record.filedAt)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );

  // --- 7. The national node's own record ---------------------------------------------------------
  // The operator's token names the node's audience, so the national node refuses it; the mock's own
  // operator holds a token minted for the national node (signed here with the local dev key).
  const { filing } = await step(
    "The national node mock's own record of the filing (read as the national node's operator)",
    async () =>
      national.getIdentifierFiling({ identifier }, bearer(await nationalNodeOperatorToken())),
  );
  if (filing.filingNumber !== record.filingNumber) {
    fail(
      `the national node mock has filing number ${filing.filingNumber}, the identifier service ${record.filingNumber}`,
    );
  }
  done(
    `filing number ${paint(1, filing.filingNumber)} for ${filing.identifier}, node ${filing.nodeCode}, owner "${filing.ownerName}", object "${filing.objectName}", filed at ${time(filing.filedAt)}`,
  );

  // --- 8. The market: a user's demand ---------------------------------------------------------------
  console.log(paint(1, '\nThe market: a user orders compute\n'));
  const { pools } = await step(
    'The operator looks at the pools online (the provider agent of npm start reports them)',
    () =>
      resources.listPools(
        {
          providerParticipantId: '',
          state: PoolState.POOL_STATE_ONLINE,
          regionCode: '',
          pageSize: 100,
          pageToken: '',
        },
        asOperator,
      ),
  );
  const target = pools.find((p) => p.spec.accelerators.length > 0 && p.inventory);
  if (!target)
    fail('no pool with accelerators is online: is the provider agent of npm start running?');
  done(
    `${pools.length} pools online; the demand below is shaped after ${target.poolId} ("${target.spec.name}", region ${target.spec.regionCode})`,
  );

  const userKey = await step('A university lab registers as a user and is certified', async () => {
    const { participant: user } = await participants.createParticipant({
      requestId: `demo-${randomUUID()}`,
      kind: ParticipantKind.PARTICIPANT_KIND_USER,
      userCategory: UserCategory.USER_CATEGORY_UNIVERSITY,
      name: `Demo University Lab ${suffix}`,
      organization: {
        creditCode: randomCreditCode(),
        address: '220 Handan Road, Yangpu District, Shanghai',
        contactPerson: {
          name: 'Wang Fang',
          title: 'Lab manager',
          mobile: '13700137000',
          email: 'wang.fang@example.edu.cn',
        },
        responsiblePerson: {
          name: 'Zhao Lei',
          title: 'Professor',
          mobile: '13600136000',
          email: 'zhao.lei@example.edu.cn',
        },
      },
    });
    await certification.startReview(
      { participantId: user.id, reason: 'registration received' },
      asOperator,
    );
    const { issuedApiKey } = await certification.certifyParticipant(
      { participantId: user.id, reason: 'university verified', requestId: randomUUID() },
      asOperator,
    );
    return issuedApiKey.apiKeySecret;
  });
  const userToken = await tokens.issueToken({ apiKey: userKey });
  const asUser = bearer(userToken.accessToken);
  done(`user ${userToken.participantId}, roles ${userToken.roles.join(', ')}`);

  const accelerator = target.spec.accelerators[0];
  const demand = {
    poolClass: target.spec.poolClass,
    acceleratorModel: accelerator.model,
    acceleratorCount: 1,
    fp16Tflops: 0,
    fp32Tflops: 0,
    cpuCores: 4,
    memoryGib: 16,
    storageGib: 100,
    durationHours: 2,
    allowedRegions: [],
    userRegionCode: target.spec.regionCode,
    userSite: '',
    maxLatencyMs: 60,
    minBandwidthMbps: 0,
    maxPriceFenPerHour: 0,
    minSecurityLevel: 0,
    minRenewableRatio: 0,
    domesticOnly: false,
  };
  const { demand: submitted } = await step(
    `The user asks for 1 × ${accelerator.model}, 4 cores, 16 GiB for 2 hours, within 60 ms of region ${target.spec.regionCode}, weighing price and latency twice`,
    () =>
      retrying(
        [GRPC.UNAVAILABLE],
        () =>
          market.submitDemand(
            {
              requestId: `demo-${randomUUID()}`,
              customerReference: '',
              demand,
              weights: {
                price: 2,
                latency: 2,
                computeEfficiency: 1,
                carbonEfficiency: 1,
                security: 1,
              },
              topK: 3,
            },
            asUser,
          ),
        ISSUE_TIMEOUT_MS,
      ),
  );
  const selection = submitted.selection;
  done(
    `demand ${submitted.demandId}: ${selection.matched} of ${selection.considered} pools meet it; the best ${selection.candidates.length}:`,
  );
  for (const [i, c] of selection.candidates.entries()) {
    const b = c.breakdown;
    console.log(
      `      ${i + 1}. ${c.poolId} region ${c.regionCode} site ${c.site}: score ${c.score.toFixed(3)} (price ${b.price.toFixed(2)}, latency ${b.latency.toFixed(2)}, compute ${b.computeEfficiency.toFixed(2)}, carbon ${b.carbonEfficiency.toFixed(2)}, security ${b.security.toFixed(2)}); ${stateName(PathKind, c.path.kind).replace(/^PATH_KIND_/, '')} path ${c.path.latencyMs} ms; ${(c.priceFenPerHour / 100).toFixed(2)} CNY/h, ${(c.totalPriceFen / 100).toFixed(2)} CNY in all`,
    );
  }
  if (selection.eliminations.length > 0)
    console.log(
      `      eliminated: ${selection.eliminations.map((e) => `${e.constraint} ${e.pools}`).join(', ')}`,
    );
  if (selection.candidates.length === 0) fail('no candidate: nothing to order');

  // --- 9. The order -----------------------------------------------------------------------------------
  const best = selection.candidates[0];
  const { order } = await step(`The user orders the best candidate, ${best.poolId}`, () =>
    market.placeOrder(
      { requestId: `demo-${randomUUID()}`, demandId: submitted.demandId, poolId: best.poolId },
      asUser,
    ),
  );
  done(
    `order ${order.orderId}: ${stateName(OrderState, order.state)}, capacity held by hold ${order.holdId}; the provider's agent receives it as an allocation`,
  );

  process.stdout.write(
    `${paint(36, '→')} Following the order while the provider's agent runs the task `,
  );
  const orderStarted = Date.now();
  const seen = [stateName(OrderState, order.state)];
  let current = order;
  while (
    ![
      OrderState.ORDER_STATE_COMPLETED,
      OrderState.ORDER_STATE_FAILED,
      OrderState.ORDER_STATE_CANCELLED,
    ].includes(current.state)
  ) {
    if (Date.now() - orderStarted > TASK_TIMEOUT_MS)
      fail(
        `order ${order.orderId} is still ${stateName(OrderState, current.state)} after ${TASK_TIMEOUT_MS / 1000} s: is the provider agent of npm start running?`,
      );
    await sleep(POLL_MS);
    ({ order: current } = await market.getOrder({ orderId: order.orderId }, asUser));
    const name = stateName(OrderState, current.state);
    if (seen.at(-1) !== name) {
      seen.push(name);
      process.stdout.write(` ${name} `);
    } else process.stdout.write('.');
  }
  process.stdout.write('\n');
  if (current.state !== OrderState.ORDER_STATE_COMPLETED)
    fail(`order ${order.orderId} ended ${stateName(OrderState, current.state)}: ${current.detail}`);
  done(
    `${seen.join(' → ')} in ${((Date.now() - orderStarted) / 1000).toFixed(1)} s; the agent said "${current.detail}"`,
  );

  console.log(
    paint(
      32,
      `\nDone: provider ${providerId} is certified and its resource pool ${identifier} is filed nationally as ${filing.filingNumber}; user ${userToken.participantId} ordered ${best.poolId} and the task completed.`,
    ),
  );
}

// --- helpers ---------------------------------------------------------------------------------------

/** An operator token for the national node mock's audience, signed with `npm start`'s dev key. */
async function nationalNodeOperatorToken() {
  const keyFile = join(ROOT, '.data', 'auth', 'signing-key.jwk.json');
  if (!existsSync(keyFile)) fail(`${keyFile} is missing: run npm start first (it creates it)`);
  const { NATIONAL_NODE_AUDIENCE, TokenIssuer } = require(
    join(ROOT, 'dist', 'libs', 'auth', 'src', 'index.js'),
  );
  const privateJwk = JSON.parse(readFileSync(keyFile, 'utf8'));
  const publicJwk = { ...privateJwk, d: undefined };
  return new TokenIssuer(
    { kid: privateJwk.kid, privateJwk, publicJwk },
    { issuer: 'cinode', audience: NATIONAL_NODE_AUDIENCE },
  ).issue({ subject: 'national-demo-operator', roles: ['operator'], ttlSeconds: 60 });
}

async function step(title, action) {
  console.log(`${paint(36, '→')} ${title}`);
  try {
    return await action();
  } catch (error) {
    throw new DemoError(`${title}: ${describeError(error)}`);
  }
}

function done(text) {
  console.log(`  ${paint(32, '✓')} ${text}`);
}

/** Repeats `call` while it fails with one of `codes`, printing a dot per attempt; bounded. */
async function retrying(codes, call, timeoutMs) {
  const started = Date.now();
  let dots = false;
  try {
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (!helpers.isGrpcError(error) || !codes.includes(error.code)) throw error;
        if (Date.now() - started > timeoutMs) {
          throw new DemoError(`still refused after ${timeoutMs / 1000} s: ${describeError(error)}`);
        }
      }
      if (!dots) process.stdout.write('  waiting ');
      dots = true;
      process.stdout.write('.');
      await sleep(POLL_MS);
    }
  } finally {
    if (dots) process.stdout.write('\n');
  }
}

function bearer(token) {
  const { Metadata } = require('@grpc/grpc-js');
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return { metadata };
}

function time(timestamp) {
  return timestamp ? helpers.fromTimestamp(timestamp).toISOString() : '(not set)';
}

function stateName(enumeration, value) {
  const name = enumeration[value] ?? String(value);
  return name.replace(/^[A-Z]+_STATE_/, '');
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeError(error) {
  if (error instanceof DemoError) return error.message;
  if (helpers.isGrpcError?.(error)) {
    const codeName =
      Object.entries(require('@grpc/grpc-js').status).find(([, v]) => v === error.code)?.[0] ??
      String(error.code);
    const status = helpers.decodeRichStatus(error);
    const reason = status?.errorInfo?.reason ? ` [${status.errorInfo.reason}]` : '';
    const fields = status?.fieldViolations?.length
      ? ` (${status.fieldViolations.map((v) => `${v.field}: ${v.description}`).join('; ')})`
      : '';
    const hint =
      error.code === GRPC.UNAVAILABLE || error.code === GRPC.DEADLINE_EXCEEDED
        ? ' — is the node running? run npm start first'
        : '';
    return `${codeName}${reason} ${error.details}${fields}${hint}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A random, valid unified social credit code (GB 32100-2015): "91", a division, 9 characters, check. */
function randomCreditCode() {
  const charset = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  let body = '91310115';
  for (let i = 0; i < 9; i += 1) body += charset[randomInt(charset.length)];
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += charset.indexOf(body[i]) * weights[i];
  return body + charset[(31 - (sum % 31)) % 31];
}
