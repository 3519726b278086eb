#!/usr/bin/env node
// Chart test for charts/cinode, run from the repo root: `node charts/cinode/test/chart-test.mjs`.
//
// For the chart defaults and every ci/*.yaml variant it runs real `helm lint --strict` and
// `helm template`, parses every rendered manifest, validates it against the Kubernetes OpenAPI
// schemas (kubernetes-models) and asserts what the chart promises: hardened security contexts,
// gRPC probes, migration hooks that only reference resources existing at hook time, selectors that
// match, and so on. Negative tests prove values.schema.json rejects typos. Exits non-zero on any
// failure; the last line is always `N passed, M failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHelm } from './helm.mjs';

const chartDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(chartDir, '../..');
const RELEASE = 'cinode-test';
const NAMESPACE = 'cinode-test';

// `yaml` is not a direct dependency: it is hoisted into node_modules by nx and
// @opentelemetry/configuration. Resolve it from the repo root and fail with a clear message.
let YAML;
try {
  YAML = await import(createRequire(join(repoRoot, 'package.json')).resolve('yaml'));
} catch {
  console.error(
    'chart-test: the `yaml` package is not in node_modules (run `npm ci` at the repo root)',
  );
  process.exit(2);
}

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`  ok    ${name}`);
  } catch (err) {
    failed++;
    console.log(
      `  FAIL  ${name}\n        ${String(err?.message ?? err)
        .split('\n')
        .join('\n        ')}`,
    );
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * The node's services and whom each calls (`dependencies`: service and env), from
 * services/<name>/service.json, the source the chart's cinode.calls follows.
 */
const manifests = new Map(
  readdirSync(join(repoRoot, 'services'))
    .filter((name) => existsSync(join(repoRoot, 'services', name, 'service.json')))
    .map((name) => {
      const manifest = JSON.parse(
        readFileSync(join(repoRoot, 'services', name, 'service.json'), 'utf8'),
      );
      return [manifest.name, manifest];
    }),
);
const helmBin = ensureHelm();
function helm(args) {
  const r = spawnSync(helmBin, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { ok: r.status === 0, stdout: r.stdout, output: `${r.stdout}${r.stderr}`.trim() };
}
const valuesArgs = (file) => (file ? ['-f', file] : []);
const template = (args) => helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE, ...args]);

// --- Kubernetes schema validation -------------------------------------------------------------

const modelCache = new Map();
async function modelFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!modelCache.has(key)) {
    // kubernetes-models lays its ESM modules out as <group>/<version>/<Kind> (core: v1/<Kind>).
    modelCache.set(
      key,
      await import(`kubernetes-models/${apiVersion}/${kind}`)
        .then((m) => m[kind])
        .catch(() => null),
    );
  }
  return modelCache.get(key);
}

/** ServiceMonitor is a CRD without a model: check the structure Prometheus Operator relies on. */
function checkServiceMonitor(doc) {
  const spec = doc.spec ?? {};
  assert(doc.metadata?.name, 'ServiceMonitor without metadata.name');
  assert(
    spec.selector?.matchLabels && Object.keys(spec.selector.matchLabels).length,
    'ServiceMonitor needs spec.selector.matchLabels',
  );
  assert(
    Array.isArray(spec.endpoints) && spec.endpoints.length,
    'ServiceMonitor needs spec.endpoints',
  );
  for (const ep of spec.endpoints) {
    assert(typeof ep.port === 'string' && ep.port, 'ServiceMonitor endpoint needs a named port');
    for (const d of ['interval', 'scrapeTimeout']) {
      if (ep[d] !== undefined)
        assert(/^[0-9]+(ms|s|m|h)$/.test(ep[d]), `ServiceMonitor ${d} ${ep[d]} is not a duration`);
    }
  }
  const known = new Set([
    'selector',
    'endpoints',
    'namespaceSelector',
    'jobLabel',
    'targetLabels',
    'podTargetLabels',
    'sampleLimit',
  ]);
  for (const k of Object.keys(spec))
    assert(known.has(k), `ServiceMonitor spec has unexpected field ${k}`);
}

async function validateDoc(doc) {
  if (doc.kind === 'ServiceMonitor' && doc.apiVersion === 'monitoring.coreos.com/v1')
    return checkServiceMonitor(doc);
  const Model = await modelFor(doc.apiVersion, doc.kind);
  if (!Model) throw new Error(`no kubernetes-models model for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

// --- Assertions on what the chart promises ----------------------------------------------------

const podSpecOf = (doc) => doc.spec?.template?.spec;
const isHook = (doc) => Boolean(doc.metadata?.annotations?.['helm.sh/hook']);
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const id = (doc) => `${doc.kind}/${doc.metadata?.name}`;
const envOf = (container) => Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));

function assertHardened(doc) {
  const pod = podSpecOf(doc);
  const psc = pod.securityContext ?? {};
  assert(psc.runAsNonRoot === true, `${id(doc)}: pod securityContext.runAsNonRoot must be true`);
  assert(
    Number.isInteger(psc.runAsUser) && psc.runAsUser > 0,
    `${id(doc)}: pod runAsUser must be a non-zero uid`,
  );
  assert(
    psc.seccompProfile?.type === 'RuntimeDefault',
    `${id(doc)}: pod seccompProfile must be RuntimeDefault`,
  );
  assert(
    pod.automountServiceAccountToken === false,
    `${id(doc)}: automountServiceAccountToken must be false`,
  );
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const where = `${id(doc)} container ${c.name}`;
    const sc = c.securityContext ?? {};
    assert(
      sc.allowPrivilegeEscalation === false,
      `${where}: allowPrivilegeEscalation must be false`,
    );
    assert(sc.readOnlyRootFilesystem === true, `${where}: readOnlyRootFilesystem must be true`);
    assert(sc.privileged !== true, `${where}: must not be privileged`);
    assert(sc.capabilities?.drop?.includes('ALL'), `${where}: must drop ALL capabilities`);
    assert(!sc.capabilities?.add?.length, `${where}: must not add capabilities`);
    assert(sc.runAsUser !== 0, `${where}: must not run as root`);
    assert(
      c.resources?.requests?.memory && c.resources?.limits?.memory,
      `${where}: needs memory request and limit`,
    );
    // A read-only root filesystem needs a writable /tmp for Node and libpq.
    const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
    assert(tmp && volumes.get(tmp.name)?.emptyDir, `${where}: /tmp must be an emptyDir mount`);
  }
}

function assertServiceDeployment(doc, ctx) {
  const pod = podSpecOf(doc);
  const c = pod.containers[0];
  const grpcPort = c.ports?.find((p) => p.name === 'grpc')?.containerPort;
  assert(grpcPort, `${id(doc)}: container has no grpc port`);
  assert(
    c.ports.some((p) => p.name === 'metrics'),
    `${id(doc)}: container has no metrics port`,
  );
  for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const probe = c[kind];
    assert(probe, `${id(doc)}: missing ${kind}`);
    if (ctx.tls) {
      assert(
        probe.tcpSocket?.port === 'grpc',
        `${id(doc)}: ${kind} must be tcpSocket on grpc with TLS (kubelet gRPC probes are plaintext)`,
      );
    } else {
      assert(
        probe.grpc?.port === grpcPort,
        `${id(doc)}: ${kind} must be a gRPC health probe on port ${grpcPort}`,
      );
    }
    assert(
      probe.periodSeconds > 0 && probe.failureThreshold > 0,
      `${id(doc)}: ${kind} needs period and threshold`,
    );
  }
  assert(
    c.command?.[0] === 'node' &&
      /^dist\/services\/[a-z-]+\/src\/main\.js$/.test(c.command[1] ?? ''),
    `${id(doc)}: unexpected command ${c.command}`,
  );
  const env = envOf(c);
  for (const name of [
    'NODE_ENV',
    'GRPC_HOST',
    'GRPC_PORT',
    'METRICS_PORT',
    'DATABASE_URL',
    'NATS_URL',
    'EVENT_STREAM_REPLICAS',
    'SHUTDOWN_DRAIN_DELAY_MS',
    'LOG_LEVEL',
    'GRPC_REFLECTION',
    'GRPC_DENY_CIDRS',
    'GRPC_ALLOW_CIDRS',
    'GRPC_PARTICIPANT_RATE_LIMIT',
    'GRPC_PARTICIPANT_BURST',
    'GRPC_SHED_LAG_MS',
    'GRPC_MAX_CONCURRENT_STREAMS',
    'AUDIT_UNAUTHENTICATED_PER_MINUTE',
    'AUDIT_CALLER_REFUSALS_PER_MINUTE',
    'GRPC_QUARANTINE_UNREAD',
    'OTEL_SERVICE_NAME',
    'DB_MIGRATE_ON_START',
  ]) {
    assert(env[name], `${id(doc)}: env ${name} missing`);
  }
  // Every service enforces the node-wide controls (the kit reads them; the defaults unless set).
  assert(
    /^[0-9]+$/.test(env.GRPC_PARTICIPANT_RATE_LIMIT.value) &&
      /^[0-9]+$/.test(env.GRPC_SHED_LAG_MS.value) &&
      /^[1-9][0-9]*$/.test(env.GRPC_MAX_CONCURRENT_STREAMS.value),
    `${id(doc)}: GRPC_PARTICIPANT_RATE_LIMIT/GRPC_SHED_LAG_MS/GRPC_MAX_CONCURRENT_STREAMS not whole numbers`,
  );
  assert(
    env.NODE_ENV.value === 'production' && env.GRPC_HOST.value === '0.0.0.0',
    `${id(doc)}: NODE_ENV/GRPC_HOST wrong`,
  );
  assert(
    env.GRPC_PORT.value === String(grpcPort),
    `${id(doc)}: GRPC_PORT does not match the container port`,
  );
  // DATABASE_URL is a secret whenever it carries the password inline.
  assert(
    env.DATABASE_URL.valueFrom?.secretKeyRef ||
      env.DATABASE_URL.value?.includes('$(DATABASE_PASSWORD)'),
    `${id(doc)}: DATABASE_URL must come from a secret`,
  );
  const component = doc.spec.template.metadata.labels['app.kubernetes.io/component'];
  const job = ctx.docs.find(
    (d) =>
      d.kind === 'Job' &&
      d.spec.template.metadata.labels['app.kubernetes.io/component'] === `${component}-migration`,
  );
  assert(
    env.DB_MIGRATE_ON_START.value === (job ? 'false' : 'true'),
    `${id(doc)}: DB_MIGRATE_ON_START must be ${job ? 'false (hook Job migrates)' : 'true (no Job)'}`,
  );
  assertAuthEnv(doc, env, ctx);
  assertOwnEnv(doc, component, env, ctx);
  assert(
    !env.NATIONAL_NODE_ENDPOINT,
    `${id(doc)}: NATIONAL_NODE_ENDPOINT is gone (NATIONAL_NODE_ADDRESS)`,
  );
  assertTlsEnv(doc, env, ctx);
  if (ctx.tls) {
    assert(
      (pod.volumes ?? []).some((v) => v.secret?.secretName === ctx.overrides.tls.existingSecret),
      `${id(doc)}: TLS secret not mounted`,
    );
  }
  assert(
    matches(doc.spec.selector.matchLabels, doc.spec.template.metadata.labels),
    `${id(doc)}: selector does not match pod labels`,
  );
  const hpa = ctx.docs.find(
    (d) => d.kind === 'HorizontalPodAutoscaler' && d.spec.scaleTargetRef.name === doc.metadata.name,
  );
  assert(
    hpa ? doc.spec.replicas === undefined : Number.isInteger(doc.spec.replicas),
    `${id(doc)}: replicas must be unset with an HPA and set without`,
  );
  const svc = ctx.docs.find(
    (d) => d.kind === 'Service' && matches(d.spec.selector, doc.spec.template.metadata.labels),
  );
  assert(svc, `${id(doc)}: no Service selects its pods`);
  assert(
    svc.spec.ports.some((p) => p.name === 'grpc' && p.targetPort === 'grpc'),
    `${id(doc)}: Service has no grpc port`,
  );
  const pdb = ctx.docs.find(
    (d) =>
      d.kind === 'PodDisruptionBudget' &&
      matches(d.spec.selector.matchLabels, doc.spec.template.metadata.labels),
  );
  assert(pdb, `${id(doc)}: no PodDisruptionBudget covers it`);
}

/** The Service of a component, and its in-cluster gRPC address (`<name>:<port>`). */
function serviceOf(ctx, component) {
  return ctx.docs.find(
    (d) => d.kind === 'Service' && d.spec.selector?.['app.kubernetes.io/component'] === component,
  );
}
function addressOf(ctx, component) {
  const svc = serviceOf(ctx, component);
  return svc ? `${svc.metadata.name}:${svc.spec.ports.find((p) => p.name === 'grpc').port}` : '';
}

/**
 * Issue 7: TLS on the listener and on every call to the other services (the JWKS among them), from
 * the same secret: the CA verifies the peers, and with mTLS the pod's certificate is its client's.
 * Nothing of it without tls.enabled (the services then call each other in plaintext).
 */
function assertTlsEnv(doc, env, ctx) {
  const dir = '/etc/cinode/tls';
  const mtls = ctx.tls && Boolean(ctx.overrides.tls.mtls);
  const expect = {
    GRPC_TLS_CERT_FILE: ctx.tls ? `${dir}/tls.crt` : undefined,
    GRPC_TLS_KEY_FILE: ctx.tls ? `${dir}/tls.key` : undefined,
    GRPC_TLS_CA_FILE: mtls ? `${dir}/ca.crt` : undefined,
    GRPC_CLIENT_TLS: ctx.tls ? 'true' : undefined,
    GRPC_CLIENT_TLS_CA_FILE: ctx.tls ? `${dir}/ca.crt` : undefined,
    GRPC_CLIENT_TLS_CERT_FILE: mtls ? `${dir}/tls.crt` : undefined,
    GRPC_CLIENT_TLS_KEY_FILE: mtls ? `${dir}/tls.key` : undefined,
  };
  for (const [name, value] of Object.entries(expect))
    assert(
      env[name]?.value === value,
      `${id(doc)}: ${name} must be ${value ?? 'unset'}, got ${env[name]?.value}`,
    );
}

/**
 * The identifier's calls to a national node outside the cluster: NATIONAL_NODE_TLS from
 * nationalNode.tls.enabled, the CA (and with mtls the client certificate) from its own secret,
 * mounted in the Deployment only. The in-cluster mock is called like the node's own services.
 */
function assertNationalNodeTlsEnv(doc, env, pod, ctx) {
  const national = ctx.overrides.nationalNode ?? {};
  const tls = national.tls ?? {};
  const enabled = tls.enabled ?? true;
  const secret = national.endpoint && enabled && !isHook(doc) ? tls.existingSecret : undefined;
  const dir = '/etc/cinode/national-node-tls';
  const expect = {
    NATIONAL_NODE_TLS: national.endpoint ? String(enabled) : undefined,
    NATIONAL_NODE_TLS_CA_FILE: secret ? `${dir}/ca.crt` : undefined,
    NATIONAL_NODE_TLS_CERT_FILE: secret && tls.mtls ? `${dir}/tls.crt` : undefined,
    NATIONAL_NODE_TLS_KEY_FILE: secret && tls.mtls ? `${dir}/tls.key` : undefined,
  };
  for (const [name, value] of Object.entries(expect))
    assert(
      env[name]?.value === value,
      `${id(doc)}: ${name} must be ${value ?? 'unset'}, got ${env[name]?.value}`,
    );
  const volume = (pod.volumes ?? []).find((v) => v.name === 'national-node-tls');
  assert(
    secret ? volume?.secret?.secretName === secret : volume === undefined,
    `${id(doc)}: national-node-tls volume must ${secret ? `mount ${secret}` : 'be absent'}`,
  );
  const mount = (pod.containers[0].volumeMounts ?? []).find((m) => m.name === 'national-node-tls');
  assert(
    secret ? mount?.mountPath === dir && mount.readOnly : mount === undefined,
    `${id(doc)}: national-node-tls must be mounted read-only at ${dir}, or not at all`,
  );
}

/** docs/adr/0001: the service key from a secret, the service center's JWKS address when it runs. */
function assertAuthEnv(doc, env, ctx) {
  const auth = ctx.overrides.auth ?? {};
  const ref = env.AUTH_SERVICE_SIGNING_KEY?.valueFrom?.secretKeyRef;
  if (auth.existingServiceKeySecret || auth.serviceSigningKey) {
    assert(ref, `${id(doc)}: AUTH_SERVICE_SIGNING_KEY must come from a secretKeyRef`);
    const want = auth.existingServiceKeySecret
      ? [auth.existingServiceKeySecret, auth.existingServiceKeySecretKey ?? 'service-signing-key']
      : [`${ctx.fullname}-auth${isHook(doc) ? '-migration' : ''}`, 'service-signing-key'];
    assert(
      ref.name === want[0] && ref.key === want[1],
      `${id(doc)}: AUTH_SERVICE_SIGNING_KEY reads ${ref.name}/${ref.key}, expected ${want.join('/')}`,
    );
  } else {
    assert(!env.AUTH_SERVICE_SIGNING_KEY, `${id(doc)}: AUTH_SERVICE_SIGNING_KEY set without a key`);
  }
  for (const [name, value] of [
    ['AUTH_JWT_MAX_TTL_SECONDS', auth.maxTokenTtlSeconds ?? 3600],
    ['AUTH_JWT_CLOCK_TOLERANCE_SECONDS', auth.clockToleranceSeconds ?? 10],
    ['AUTH_JWKS_MAX_STALE_SECONDS', auth.jwksMaxStaleSeconds ?? 600],
  ])
    assert(
      env[name]?.value === String(value),
      `${id(doc)}: ${name} must be ${value}, got ${env[name]?.value}`,
    );
  // A hook Job (`<service>-migration`) gets its service's environment.
  const service = doc.spec.template.metadata.labels['app.kubernetes.io/component'].replace(
    /-migration$/,
    '',
  );
  const audience = ctx.overrides.nationalNode?.audience || undefined;
  if (service === 'national-node-mock')
    assert(
      env.AUTH_JWT_AUDIENCE?.value === audience,
      `${id(doc)}: the mock's AUTH_JWT_AUDIENCE must be ${audience ?? 'unset'}, got ${env.AUTH_JWT_AUDIENCE?.value}`,
    );
  else assert(!env.AUTH_JWT_AUDIENCE, `${id(doc)}: AUTH_JWT_AUDIENCE is the node's default`);
  const jwks = addressOf(ctx, 'service-center');
  assert(
    env.AUTH_JWKS_ADDRESS && env.AUTH_JWKS_ADDRESS.value === jwks,
    `${id(doc)}: AUTH_JWKS_ADDRESS must be ${jwks ? jwks : 'empty (no service center)'}, got ${env.AUTH_JWKS_ADDRESS?.value}`,
  );
  if (jwks)
    assert(/-service-center:50061$/.test(jwks), `unexpected service center address ${jwks}`);
}

/** A service's own environment (the Deployment's and its migration Job's alike). */
function assertOwnEnv(doc, component, env, ctx) {
  assertCalls(doc, component, env, ctx);
  if (component === 'identifier') assertIdentifierEnv(doc, env, ctx);
  if (component === 'service-center') assertServiceCenterEnv(doc, env, ctx);
  if (component === 'resource-aggregation') assertResourceAggregationEnv(doc, env, ctx);
  if (component === 'compute-selection') assertComputeSelectionEnv(doc, env, ctx);
  if (component === 'reporting') assertReportingEnv(doc, env, ctx);
  if (component === 'security') assertSecurityEnv(doc, env, ctx);
}

/**
 * Every service its manifest says it calls is rendered and named by its Service's in-cluster
 * address (the national node: assertIdentifierEnv). A service pointed at nothing would start and
 * fail its calls: the chart must refuse such values instead (see the rejects below).
 */
function assertCalls(doc, component, env, ctx) {
  for (const dependency of manifests.get(component)?.dependencies ?? []) {
    if (dependency.service === 'national-node-mock') continue;
    const address = addressOf(ctx, dependency.service);
    assert(
      address,
      `${id(doc)}: calls ${dependency.service} (${dependency.env}), which is not rendered`,
    );
    assert(
      env[dependency.env]?.value === address,
      `${id(doc)}: ${dependency.env} must be ${address}, got ${env[dependency.env]?.value}`,
    );
  }
}

/** Env variables from a settings block: `[name, key, default]`, the override winning. */
function assertSettingsEnv(doc, env, settings, table) {
  for (const [name, key, fallback] of table) {
    const want = String(settings[key] ?? fallback);
    assert(
      env[name]?.value === want,
      `${id(doc)}: ${name} must be ${want}, got ${env[name]?.value}`,
    );
  }
}

function assertResourceAggregationEnv(doc, env, ctx) {
  assertSettingsEnv(doc, env, ctx.overrides.resourceAggregation?.settings ?? {}, [
    ['POOL_STALE_AFTER_SECONDS', 'poolStaleAfterSeconds', 90],
    ['POOL_OFFLINE_AFTER_SECONDS', 'poolOfflineAfterSeconds', 600],
    ['SWEEP_INTERVAL_MS', 'sweepIntervalMs', 5000],
    ['HISTORY_RETENTION_DAYS', 'historyRetentionDays', 30],
    ['HOLD_DEFAULT_TTL_SECONDS', 'holdDefaultTtlSeconds', 300],
  ]);
}

function assertComputeSelectionEnv(doc, env, ctx) {
  const settings = ctx.overrides.computeSelection?.settings ?? {};
  assertSettingsEnv(doc, env, settings, [
    ['LATENCY_SAME_REGION_MS', 'latencySameRegionMs', 2],
    ['LATENCY_SAME_PROVINCE_MS', 'latencySameProvinceMs', 5],
    ['LATENCY_DEFAULT_MS', 'latencyDefaultMs', 35],
    ['HEAP_GROWING_PERCENT', 'heapGrowingPercent', 25],
    ['SELECT_ANSWER_CACHE_SIZE', 'selectAnswerCacheSize', 1024],
    ['MAX_LINES_PER_PROVIDER', 'maxLinesPerProvider', 1000],
    ['LINE_HOLD_SWEEP_INTERVAL_MS', 'lineHoldSweepIntervalMs', 5000],
  ]);
  // The service parses it as JSON {"PP-PP": ms}; unset (its default, none) when the map is empty.
  const matrix = settings.latencyProvinceMatrix ?? {};
  const value = env.LATENCY_PROVINCE_MATRIX?.value;
  if (!Object.keys(matrix).length)
    assert(value === undefined, `${id(doc)}: LATENCY_PROVINCE_MATRIX must be unset, got ${value}`);
  else
    assert(
      value !== undefined && JSON.stringify(JSON.parse(value)) === JSON.stringify(sortKeys(matrix)),
      `${id(doc)}: LATENCY_PROVINCE_MATRIX must be ${JSON.stringify(matrix)}, got ${value}`,
    );
}
const sortKeys = (object) => Object.fromEntries(Object.entries(object).sort());

/**
 * The national node and the node's registration with it, the same for the identifier and
 * reporting (RegisterNode is idempotent on NODE_KEY with the same type and region): the address
 * (nationalNode.endpoint, else the in-cluster mock), how it is called, and node.*. NODE_CODE and
 * IDENTIFIER_PREFIX are the identifier's alone.
 */
function assertNationalNodeEnv(doc, env, ctx, { registered }) {
  assertNationalNodeTlsEnv(doc, env, podSpecOf(doc), ctx);
  const want = ctx.overrides.nationalNode?.endpoint || addressOf(ctx, 'national-node-mock');
  assert(
    want && env.NATIONAL_NODE_ADDRESS?.value === want,
    `${id(doc)}: NATIONAL_NODE_ADDRESS must be ${want}, got ${env.NATIONAL_NODE_ADDRESS?.value}`,
  );
  const node = ctx.overrides.node ?? {};
  const expect = {
    NODE_KEY: node.key || `${NAMESPACE}-${RELEASE}`,
    NODE_NAME: node.name,
    NODE_TYPE: node.type ?? 'regional',
    NODE_REGION_CODE: String(node.regionCode),
    NODE_OPERATOR_NAME: node.operatorName,
    NODE_CODE: (registered && node.code) || undefined,
    IDENTIFIER_PREFIX: (registered && node.identifierPrefix) || undefined,
    NATIONAL_NODE_AUDIENCE: ctx.overrides.nationalNode?.audience || undefined,
  };
  for (const [name, value] of Object.entries(expect))
    assert(
      env[name]?.value === value,
      `${id(doc)}: ${name} must be ${value ?? 'unset'}, got ${env[name]?.value}`,
    );
  assert(
    /^[0-9]{6}$/.test(env.NODE_REGION_CODE.value),
    `${id(doc)}: NODE_REGION_CODE not 6 digits`,
  );
}

function assertIdentifierEnv(doc, env, ctx) {
  assertNationalNodeEnv(doc, env, ctx, { registered: true });
}

/**
 * Reporting: the national node and the node's registration as the identifier's, the window, the
 * base information as JSON (the values' map, whole), and the key encryption key from the
 * existing secret or the chart-managed `<fullname>-reporting` (its hook copy in the Job).
 */
function assertReportingEnv(doc, env, ctx) {
  assertNationalNodeEnv(doc, env, ctx, { registered: false });
  const settings = ctx.overrides.reporting?.settings ?? {};
  assertSettingsEnv(doc, env, settings, [
    ['REPORT_WINDOW', 'window', '07:00-08:00'],
    ['REPORT_CATCH_UP_WINDOWS', 'catchUpWindows', true],
  ]);
  const base = env.REPORT_BASE_INFO_JSON?.value;
  assert(
    base !== undefined &&
      JSON.stringify(sortKeysDeep(JSON.parse(base))) ===
        JSON.stringify(sortKeysDeep(settings.baseInformation)),
    `${id(doc)}: REPORT_BASE_INFO_JSON must be reporting.settings.baseInformation as JSON, got ${base}`,
  );
  assertKeyRefs(doc, env, ctx, 'reporting', settings, [
    ['REPORT_KEY_ENCRYPTION_KEY', 'keyEncryptionKey', 'report-key-encryption-key'],
  ]);
}
const sortKeysDeep = (value) =>
  Array.isArray(value)
    ? value.map(sortKeysDeep)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, sortKeysDeep(v)]),
        )
      : value;

/**
 * Security: its two callees by their in-cluster addresses (assertCalls checks them against the
 * manifest too), and posture checks of private addresses left at the service's default (off).
 */
function assertSecurityEnv(doc, env, ctx) {
  for (const [name, component, port] of [
    ['SERVICE_CENTER_ADDRESS', 'service-center', 50061],
    ['RESOURCE_AGGREGATION_ADDRESS', 'resource-aggregation', 50071],
  ])
    assert(
      env[name]?.value === `${ctx.fullname}-${component}:${port}`,
      `${id(doc)}: ${name} must be ${ctx.fullname}-${component}:${port}, got ${env[name]?.value}`,
    );
  assert(
    !env.POSTURE_ALLOW_PRIVATE_ADDRESSES,
    `${id(doc)}: POSTURE_ALLOW_PRIVATE_ADDRESSES must be left to the service (false)`,
  );
}

/**
 * Keys a service reads from a secret: `settings[key].existingSecret` (and its key) when named,
 * else the chart-managed `<fullname>-<component>` (`-migration` in a hook Job) under the managed key.
 */
function assertKeyRefs(doc, env, ctx, component, settings, table) {
  for (const [name, key, managedKey] of table) {
    const ref = env[name]?.valueFrom?.secretKeyRef;
    assert(ref, `${id(doc)}: ${name} must come from a secretKeyRef`);
    const existing = settings[key]?.existingSecret;
    const want = existing
      ? [existing, settings[key].existingSecretKey ?? managedKey]
      : [`${ctx.fullname}-${component}${isHook(doc) ? '-migration' : ''}`, managedKey];
    assert(
      ref.name === want[0] && ref.key === want[1],
      `${id(doc)}: ${name} reads ${ref.name}/${ref.key}, expected ${want.join('/')}`,
    );
  }
}

function assertServiceCenterEnv(doc, env, ctx) {
  const settings = ctx.overrides.serviceCenter?.settings ?? {};
  assertSettingsEnv(doc, env, settings, [
    ['TOKEN_TTL_SECONDS', 'tokenTtlSeconds', 300],
    ['MARKET_PEER_TIMEOUT_MS', 'marketPeerTimeoutMs', 10000],
    ['ORDER_CANDIDATE_MAX_AGE_SECONDS', 'orderCandidateMaxAgeSeconds', 1800],
    ['ORDER_HOLD_TTL_SECONDS', 'orderHoldTtlSeconds', 120],
    ['ORDER_RECOVERY_AFTER_SECONDS', 'orderRecoveryAfterSeconds', 30],
  ]);
  const proxies = (settings.trustedProxies ?? []).join(',') || undefined;
  assert(
    env.TOKEN_TRUSTED_PROXIES?.value === proxies,
    `${id(doc)}: TOKEN_TRUSTED_PROXIES must be ${proxies ?? 'unset'}, got ${env.TOKEN_TRUSTED_PROXIES?.value}`,
  );
  assertKeyRefs(doc, env, ctx, 'service-center', settings, [
    ['SIGNING_KEY_ENCRYPTION_KEY', 'signingKeyEncryptionKey', 'signing-key-encryption-key'],
    ['OPERATOR_BOOTSTRAP_KEY', 'operatorBootstrapKey', 'operator-bootstrap-key'],
  ]);
}

/** Base64 of exactly 32 bytes, written canonically (what the services' isEncryptionKeyText takes). */
const isEncryptionKeyText = (key) =>
  /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(key ?? '') &&
  Buffer.from(key, 'base64').length === 32;

/**
 * The keys the chart keeps for a service (`<fullname>-<component>`): rendered exactly when a key
 * does not come from an existingSecret, kept on uninstall, each well-formed (the value when given),
 * and the hook copy holds the same (generated) ones. `keys`: [settings key, data key, check].
 */
function assertKeptSecret(ctx, component, settings, keys) {
  const name = `${ctx.fullname}-${component}`;
  const secret = ctx.docs.find((d) => d.kind === 'Secret' && d.metadata.name === name);
  const managed = keys.filter(([key]) => !settings[key]?.existingSecret);
  if (!managed.length) return assert(!secret, `${name} secret rendered but nothing to keep`);
  assert(secret, `Secret ${name} missing`);
  assert(
    secret.metadata.annotations?.['helm.sh/resource-policy'] === 'keep',
    `the ${component} secret must survive uninstall (helm.sh/resource-policy: keep)`,
  );
  const data = Object.fromEntries(
    Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
  assert(
    JSON.stringify(Object.keys(data).sort()) ===
      JSON.stringify(managed.map(([, dataKey]) => dataKey).sort()),
    `${name} holds ${Object.keys(data).join(', ')}, expected the keys without an existingSecret`,
  );
  for (const [key, dataKey, [what, wellFormed]] of managed) {
    assert(wellFormed(data[dataKey]), `${dataKey} must be ${what}, got ${data[dataKey]}`);
    if (settings[key]?.value)
      assert(data[dataKey] === settings[key].value, `${component}: ${key}.value not used`);
  }
  const copy = ctx.docs.find(
    (d) => d.kind === 'Secret' && d.metadata.name === `${secret.metadata.name}-migration`,
  );
  if (copy)
    assert(
      JSON.stringify(copy.data) === JSON.stringify(secret.data),
      `the hook copy of the ${component} secret holds other (generated) keys than the secret`,
    );
}
const base64Key = ['base64 of 32 bytes', isEncryptionKeyText];

/** Pod labels of a component's Deployment or StatefulSet. */
function podLabelsOf(ctx, component) {
  return ctx.docs.find(
    (d) =>
      ['Deployment', 'StatefulSet'].includes(d.kind) &&
      d.spec.template.metadata.labels['app.kubernetes.io/component'] === component,
  )?.spec.template.metadata.labels;
}
/** A NetworkPolicyPeer list admits a release pod with these labels (no list: anyone). */
const peersAdmit = (peers, labels) =>
  peers === undefined ||
  peers.some(
    (p) => !p.namespaceSelector && !p.ipBlock && matches(p.podSelector?.matchLabels, labels),
  );
/** A rule's ports include the port (by number, or by name for ingress to a named container port). */
const portsAdmit = (ports, port, name) =>
  ports === undefined || ports.some((p) => p.port === port || (name && p.port === name));

/**
 * Who calls whom gets through: each service's egress (when locked down) reaches the service
 * center's gRPC port (JWKS) and every service its manifest calls, the callee's ingress admits the
 * caller on its gRPC port, the identifier reaches the national node outside at its port towards
 * networkPolicy.nationalNodePeers, and bundled PostgreSQL and NATS admit every service.
 */
function assertNetworkPolicies(ctx) {
  const np = ctx.overrides.networkPolicy ?? {};
  const policies = new Map(
    ctx.docs
      .filter((d) => d.kind === 'NetworkPolicy')
      .map((d) => [d.spec.podSelector.matchLabels['app.kubernetes.io/component'], d]),
  );
  const grpcPortOf = (component) =>
    serviceOf(ctx, component).spec.ports.find((p) => p.name === 'grpc').port;
  const deployments = ctx.docs
    .filter((d) => d.kind === 'Deployment')
    .map((d) => d.spec.template.metadata.labels['app.kubernetes.io/component']);
  for (const caller of deployments) {
    const policy = policies.get(caller);
    assert(policy, `Deployment of ${caller} has no NetworkPolicy`);
    const labels = podLabelsOf(ctx, caller);
    // With nationalNode.endpoint the identifier calls that, not the mock (checked below).
    const endpoint = ctx.overrides.nationalNode?.endpoint;
    const callees = (manifests.get(caller)?.dependencies ?? [])
      .map((d) => d.service)
      .filter((service) => deployments.includes(service))
      .filter((service) => !(service === 'national-node-mock' && endpoint));
    if (caller !== 'service-center' && deployments.includes('service-center'))
      callees.push('service-center');
    for (const callee of callees) {
      const port = grpcPortOf(callee);
      const calleeLabels = podLabelsOf(ctx, callee);
      if (policy.spec.policyTypes.includes('Egress'))
        assert(
          policy.spec.egress.some(
            (r) => peersAdmit(r.to, calleeLabels) && portsAdmit(r.ports, port),
          ),
          `${id(policy)}: no egress to ${callee}'s gRPC port ${port}`,
        );
      const calleePolicy = policies.get(callee);
      assert(
        calleePolicy.spec.ingress.some(
          (r) => peersAdmit(r.from, labels) && portsAdmit(r.ports, port, 'grpc'),
        ),
        `${id(calleePolicy)}: no ingress from ${caller} to its gRPC port`,
      );
    }
    if (
      ['identifier', 'reporting'].includes(caller) &&
      endpoint &&
      np.allowExternalEgress === false
    ) {
      const port = Number(endpoint.split(':').pop());
      const rule = policy.spec.egress.find((r) => r.ports?.some((p) => p.port === port));
      assert(rule, `${id(policy)}: no egress to the national node's port ${port}`);
      assert(
        JSON.stringify(rule.to ?? []) === JSON.stringify(np.nationalNodePeers ?? []),
        `${id(policy)}: national-node egress must go to networkPolicy.nationalNodePeers`,
      );
    }
    for (const [backing, port] of [
      ['postgresql', 5432],
      ['nats', 4222],
    ]) {
      const backingPolicy = policies.get(backing);
      if (!podLabelsOf(ctx, backing)) continue;
      assert(backingPolicy, `bundled ${backing} has no NetworkPolicy`);
      assert(
        backingPolicy.spec.ingress.some(
          (r) => peersAdmit(r.from, labels) && portsAdmit(r.ports, port),
        ),
        `${id(backingPolicy)}: no ingress from ${caller} on ${port}`,
      );
    }
  }
}

function assertMigrationJob(doc, ctx) {
  const a = doc.metadata.annotations ?? {};
  assert(
    a['helm.sh/hook'] === 'pre-install,pre-upgrade',
    `${id(doc)}: must be a pre-install,pre-upgrade hook`,
  );
  assert(
    /^-?[0-9]+$/.test(a['helm.sh/hook-weight'] ?? ''),
    `${id(doc)}: needs a helm.sh/hook-weight`,
  );
  assert(
    (a['helm.sh/hook-delete-policy'] ?? '').includes('before-hook-creation'),
    `${id(doc)}: delete policy must include before-hook-creation`,
  );
  const pod = podSpecOf(doc);
  assert(pod.restartPolicy === 'Never', `${id(doc)}: restartPolicy must be Never`);
  const env = envOf(pod.containers[0]);
  assertAuthEnv(doc, env, ctx);
  // `migrate` calls nothing and mounts no certificates: a *_FILE it cannot read stops it.
  const files = Object.keys(env).filter((name) => name.endsWith('_FILE'));
  assert(files.length === 0, `${id(doc)}: no *_FILE variables in a migration Job (${files})`);
  const component = doc.spec.template.metadata.labels['app.kubernetes.io/component'];
  assertOwnEnv(doc, component.replace(/-migration$/, ''), env, ctx);
  assert(pod.containers[0].args?.[0] === 'migrate', `${id(doc)}: must run "main.js migrate"`);
  assert(
    !pod.serviceAccountName ||
      !ctx.docs.some(
        (d) =>
          d.kind === 'ServiceAccount' && !isHook(d) && d.metadata.name === pod.serviceAccountName,
      ),
    `${id(doc)}: uses a ServiceAccount that does not exist yet at pre-install`,
  );
  // Hooks run before the release's ordinary resources exist: every Secret the Job reads must be
  // a hook itself (with a lower weight) or supplied from outside the chart.
  for (const e of pod.containers[0].env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const rendered = ctx.docs.find((d) => d.kind === 'Secret' && d.metadata.name === ref.name);
    if (!rendered) continue; // an existingSecret
    assert(
      isHook(rendered),
      `${id(doc)}: env ${e.name} reads Secret ${ref.name}, which is not created until after the hooks`,
    );
    assert(
      Number(rendered.metadata.annotations['helm.sh/hook-weight']) <
        Number(a['helm.sh/hook-weight']),
      `${id(doc)}: Secret ${ref.name} must have a lower hook weight`,
    );
    assert(
      ref.key in (rendered.stringData ?? rendered.data ?? {}),
      `${id(doc)}: Secret ${ref.name} has no key ${ref.key}`,
    );
  }
  const labels = doc.spec.template.metadata.labels;
  assert(
    !ctx.docs.some(
      (d) =>
        (d.kind === 'Service' && matches(d.spec.selector, labels)) ||
        (d.kind === 'PodDisruptionBudget' && matches(d.spec.selector.matchLabels, labels)),
    ),
    `${id(doc)}: a Service or PDB selects the migration pod`,
  );
}

/** Every secretKeyRef of an ordinary workload names a rendered Secret with that key, or an existing one. */
function assertSecretRefs(doc, ctx) {
  for (const c of [...(podSpecOf(doc).initContainers ?? []), ...podSpecOf(doc).containers]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      const rendered = ctx.docs.find(
        (d) => d.kind === 'Secret' && !isHook(d) && d.metadata.name === ref.name,
      );
      if (rendered)
        assert(
          ref.key in (rendered.stringData ?? rendered.data ?? {}),
          `${id(doc)}: Secret ${ref.name} has no key ${ref.key}`,
        );
      else
        assert(
          ctx.externalSecrets.has(ref.name),
          `${id(doc)}: env ${e.name} reads Secret ${ref.name}, which is neither rendered nor declared as existing`,
        );
    }
  }
}

// --- Variants ---------------------------------------------------------------------------------

const ciDir = join(chartDir, 'ci');
const variants = [
  { name: 'chart defaults', file: null },
  ...readdirSync(ciDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ name: `ci/${f}`, file: join(ciDir, f) })),
];

/** What each variant must render, beyond the generic checks (keys: kinds present or absent). */
// `templateFails`: the variant lints, but rendering must stop with that message.
const expectations = {
  // Every node service is on by default and needs database credentials (and the node's
  // identity): bare defaults must fail loudly rather than install pods that crash.
  'chart defaults': { templateFails: /service-center: set postgresql\.external\.password/ },
  // A default install is a whole node: all seven services, each with its migration Job; the
  // service center's and reporting's generated keys, each with its hook copy.
  'ci/default-values.yaml': {
    Deployment: 7,
    Job: 7,
    Secret: 4,
    HorizontalPodAutoscaler: 0,
    ServiceMonitor: 0,
    NetworkPolicy: 0,
    StatefulSet: 0,
  },
  'ci/minimal-values.yaml': {
    Deployment: 8,
    Job: 8,
    Secret: 0,
    HorizontalPodAutoscaler: 0,
    ServiceMonitor: 0,
    StatefulSet: 0,
  },
  'ci/production-values.yaml': {
    Deployment: 8,
    Job: 8,
    Secret: 8,
    HorizontalPodAutoscaler: 3,
    ServiceMonitor: 8,
    NetworkPolicy: 8,
    StatefulSet: 0,
  },
  'ci/full-values.yaml': {
    Deployment: 8,
    Job: 0,
    Secret: 4,
    HorizontalPodAutoscaler: 2,
    ServiceMonitor: 8,
    StatefulSet: 2,
    NetworkPolicy: 10,
  },
};
/**
 * Services (Deployment components) a variant must run, when it says: a default install is the
 * whole node, every service but the national-node mock (named here, not taken from
 * services/<name>/service.json, since a service the generator adds starts off by default).
 */
const nodeServices = [
  'compute-selection',
  'identifier',
  'reporting',
  'resource-aggregation',
  'runtime-monitoring',
  'security',
  'service-center',
];
const expectedServices = {
  'ci/default-values.yaml': nodeServices,
  'ci/minimal-values.yaml': [...nodeServices, 'national-node-mock'].sort(),
};

/**
 * Runtime monitoring reads the metrics port of every Deployment of the release (SCRAPE_TARGETS, by
 * in-cluster Service name), and the dashboard ConfigMap carries Grafana's sidecar label and a
 * dashboard whose rows are the four domains.
 */
function assertRuntimeMonitoring(monitoring, docs, deployments) {
  const env = envOf(podSpecOf(monitoring).containers[0]);
  const targets = (env.SCRAPE_TARGETS?.value ?? '').split(',').filter(Boolean);
  const components = deployments
    .map((d) => d.spec.template.metadata.labels['app.kubernetes.io/component'])
    .sort();
  assert(
    JSON.stringify(targets.map((t) => t.split('=')[0]).sort()) === JSON.stringify(components),
    `SCRAPE_TARGETS ${targets.join(', ')} do not name the Deployments ${components.join(', ')}`,
  );
  for (const target of targets) {
    const [component, url] = target.split('=');
    const service = docs.find(
      (d) => d.kind === 'Service' && d.metadata.name === new URL(url).hostname,
    );
    assert(service, `${component}: no Service ${url}`);
    const port = Number(new URL(url).port);
    assert(
      service.spec.ports.some((p) => p.port === port),
      `${component}: Service ${service.metadata.name} has no port ${port}`,
    );
  }
  JSON.parse(env.ALERT_RULES_JSON?.value ?? 'x');
  const dashboards = docs.filter(
    (d) => d.kind === 'ConfigMap' && d.metadata.labels?.grafana_dashboard === '1',
  );
  assert(dashboards.length === 1, `expected one dashboard ConfigMap, got ${dashboards.length}`);
  const [file, text] = Object.entries(dashboards[0].data)[0];
  assert(file.endsWith('.json'), `dashboard key ${file} is not a .json file`);
  const rows = JSON.parse(text)
    .panels.filter((p) => p.type === 'row')
    .map((p) => p.title.split(' ')[0]);
  assert(
    JSON.stringify(rows) === JSON.stringify(['Resource', 'Platform', 'Scheduling', 'Application']),
    `dashboard rows ${rows.join(', ')}`,
  );
}

console.log(`helm: ${helm(['version', '--short']).stdout.trim()} (${helmBin})`);

for (const variant of variants) {
  console.log(`\n${variant.name}`);
  const overrides = variant.file ? (YAML.parse(readFileSync(variant.file, 'utf8')) ?? {}) : {};

  await check(`helm lint --strict`, () => {
    const r = helm(['lint', '--strict', chartDir, ...valuesArgs(variant.file)]);
    assert(r.ok, r.output);
  });

  const expected = expectations[variant.name];
  if (expected?.templateFails) {
    await check(`helm template fails with ${expected.templateFails}`, () => {
      const r = template(valuesArgs(variant.file));
      assert(!r.ok, 'helm template accepted it');
      assert(expected.templateFails.test(r.output), `failed for another reason:\n${r.output}`);
    });
    continue;
  }

  let docs = [];
  await check('helm template renders', () => {
    const r = template(valuesArgs(variant.file));
    assert(r.ok, r.output);
    docs = YAML.parseAllDocuments(r.stdout)
      .map((d) => {
        if (d.errors.length) throw new Error(`YAML error: ${d.errors[0].message}`);
        return d.toJS();
      })
      .filter(Boolean);
    assert(docs.length > 0, 'rendered nothing');
  });
  if (!docs.length) continue;

  const ctx = {
    docs,
    overrides,
    // cinode.fullname: the release name alone when it contains the chart name.
    fullname: RELEASE.includes('cinode') ? RELEASE : `${RELEASE}-cinode`,
    tls: Boolean(overrides.tls?.enabled),
    // Secrets the variant says exist outside the chart (values keys named existing...Secret).
    externalSecrets: new Set(
      JSON.stringify(overrides)
        .match(/"existing[A-Za-z]*Secret":"[^"]+"/g)
        ?.map((s) => s.split(':')[1].replaceAll('"', '')) ?? [],
    ),
  };

  await check(
    `${docs.length} manifests validate against the Kubernetes schemas (kubernetes-models)`,
    async () => {
      const errors = [];
      for (const d of docs)
        await validateDoc(d).catch((e) => errors.push(`${id(d)}: ${e.message}`));
      assert(!errors.length, errors.join('\n'));
    },
  );

  await check('every resource has a name, namespace and the standard labels', () => {
    for (const d of docs) {
      assert(d.metadata?.name && d.metadata.name.length <= 63, `${id(d)}: bad name`);
      assert(
        d.metadata.namespace === NAMESPACE,
        `${id(d)}: namespace must be set to the release namespace`,
      );
      for (const l of [
        'app.kubernetes.io/name',
        'app.kubernetes.io/instance',
        'app.kubernetes.io/managed-by',
        'helm.sh/chart',
      ]) {
        assert(d.metadata.labels?.[l], `${id(d)}: label ${l} missing`);
      }
    }
    const names = docs.map(id);
    assert(
      new Set(names).size === names.length,
      `duplicate resources: ${names.filter((n, i) => names.indexOf(n) !== i)}`,
    );
  });

  const workloads = docs.filter((d) => ['Deployment', 'StatefulSet', 'Job'].includes(d.kind));
  if (workloads.length) {
    await check(`security contexts of ${workloads.length} workloads are hardened`, () =>
      workloads.forEach(assertHardened),
    );
    await check('secret references resolve', () =>
      workloads.filter((d) => !isHook(d)).forEach((d) => assertSecretRefs(d, ctx)),
    );
  }
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  if (deployments.length) {
    await check(
      `probes, env, selectors, Service and PDB of ${deployments.length} Deployments`,
      () => deployments.forEach((d) => assertServiceDeployment(d, ctx)),
    );
  }
  const jobs = docs.filter((d) => d.kind === 'Job');
  if (jobs.length)
    await check(`${jobs.length} migration Jobs are well-formed pre-install/pre-upgrade hooks`, () =>
      jobs.forEach((d) => assertMigrationJob(d, ctx)),
    );
  for (const sts of docs.filter((d) => d.kind === 'StatefulSet')) {
    await check(`${id(sts)} has probes and a matching selector`, () => {
      const c = podSpecOf(sts).containers[0];
      assert(c.startupProbe && c.livenessProbe && c.readinessProbe, 'probes missing');
      assert(
        matches(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels),
        'selector does not match',
      );
    });
  }
  if (docs.some((d) => d.kind === 'Deployment' && /-service-center$/.test(d.metadata.name)))
    await check('service-center keys: well-formed, kept on uninstall, same in the hook copy', () =>
      assertKeptSecret(ctx, 'service-center', overrides.serviceCenter?.settings ?? {}, [
        ['signingKeyEncryptionKey', 'signing-key-encryption-key', base64Key],
        [
          'operatorBootstrapKey',
          'operator-bootstrap-key',
          [
            'cin_<8 base62>_<32 base62>',
            (key) => /^cin_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/.test(key ?? ''),
          ],
        ],
      ]),
    );
  if (docs.some((d) => d.kind === 'Deployment' && /-reporting$/.test(d.metadata.name)))
    await check(
      'reporting key encryption key: well-formed, kept on uninstall, same in the hook copy',
      () =>
        assertKeptSecret(ctx, 'reporting', overrides.reporting?.settings ?? {}, [
          ['keyEncryptionKey', 'report-key-encryption-key', base64Key],
        ]),
    );
  if (docs.some((d) => d.kind === 'NetworkPolicy'))
    await check(
      'NetworkPolicies let every call through: between services, JWKS, national node, backing',
      () => assertNetworkPolicies(ctx),
    );
  const monitoring = deployments.find((d) => /-runtime-monitoring$/.test(d.metadata.name));
  if (monitoring)
    await check(
      'runtime monitoring scrapes every service of the release and ships its dashboard',
      () => assertRuntimeMonitoring(monitoring, docs, deployments),
    );
  if (expectedServices[variant.name]) {
    const want = expectedServices[variant.name];
    await check(`runs ${want.join(', ')}`, () => {
      const running = deployments
        .map((d) => d.spec.template.metadata.labels['app.kubernetes.io/component'])
        .sort();
      assert(
        JSON.stringify(running) === JSON.stringify(want),
        `expected Deployments of ${want.join(', ')}, got ${running.join(', ')}`,
      );
    });
  }
  if (expected) {
    await check(
      `renders the expected kinds (${Object.entries(expected)
        .map(([k, n]) => `${k}=${n}`)
        .join(', ')})`,
      () => {
        for (const [kind, n] of Object.entries(expected)) {
          const count = docs.filter((d) => d.kind === kind).length;
          assert(count === n, `expected ${n} ${kind}, got ${count}`);
        }
      },
    );
  } else {
    console.log(`  (no kind expectations for ${variant.name}; add them to chart-test.mjs)`);
  }
}

// --- Negative tests: values the chart must refuse ---------------------------------------------

console.log('\nvalues the chart must reject');
// schema: true marks values.schema.json violations, which `helm lint` must also report. The other
// cases are `fail`/`required` guards in the templates, which helm deliberately downgrades to log
// lines in lint mode, so for them only `helm template` (and install) can fail.
// Renders as is: the chart's required inputs, each case then breaks one thing.
const valid = ['-f', join(ciDir, 'default-values.yaml')];
const rejects = [
  {
    what: 'a termination grace period shorter than the drain delay plus 15 s',
    args: [
      '--set',
      'shutdownDrainDelaySeconds=20',
      '--set',
      'identifier.terminationGracePeriodSeconds=30',
    ],
    expect:
      /terminationGracePeriodSeconds \(30\) must be at least shutdownDrainDelaySeconds \+ 15 \(35\)/,
  },
  {
    what: 'nats.streamReplicas above 5',
    args: ['--set', 'nats.streamReplicas=7'],
    expect: /streamReplicas/,
    schema: true,
  },
  {
    what: 'typo in a service key (nationalNodeMock.replicaCont)',
    args: ['--set', 'nationalNodeMock.replicaCont=2'],
    expect: /replicaCont/,
    schema: true,
  },
  {
    what: 'typo in a top-level key (imagee.tag)',
    args: ['--set', 'imagee.tag=x'],
    expect: /imagee/,
    schema: true,
  },
  {
    what: 'typo in a nested key (postgresql.external.hots)',
    args: ['--set', 'postgresql.external.hots=db'],
    expect: /hots/,
    schema: true,
  },
  {
    what: 'wrong type (nationalNodeMock.grpcPort=abc)',
    args: ['--set', 'nationalNodeMock.grpcPort=abc'],
    expect: /grpcPort/,
    schema: true,
  },
  {
    what: 'out-of-range port (nationalNodeMock.metricsPort=70000)',
    args: ['--set', 'nationalNodeMock.metricsPort=70000'],
    expect: /metricsPort/,
    schema: true,
  },
  {
    what: 'bad enum (nationalNodeMock.service.type=Internal)',
    args: ['--set', 'nationalNodeMock.service.type=Internal'],
    expect: /type/,
    schema: true,
  },
  {
    what: 'bad log level (logLevel=verbose)',
    args: ['--set', 'logLevel=verbose'],
    expect: /logLevel/,
    schema: true,
  },
  {
    what: 'an enabled service without database credentials',
    args: [
      ...['--set', 'serviceCenter.enabled=false', '--set', 'identifier.enabled=false'],
      ...['--set', 'resourceAggregation.enabled=false', '--set', 'computeSelection.enabled=false'],
      ...['--set', 'runtimeMonitoring.enabled=false', '--set', 'nationalNodeMock.enabled=true'],
      ...['--set', 'reporting.enabled=false', '--set', 'security.enabled=false'],
    ],
    expect: /national-node-mock: set postgresql\.external\.password/,
  },
  {
    what: 'TLS without a secret',
    args: [...valid, '--set', 'tls.enabled=true'],
    expect: /tls\.existingSecret is required/,
  },
  {
    what: 'HPA with min > max',
    args: [
      ...valid,
      ...['--set', 'serviceCenter.autoscaling.enabled=true'],
      ...['--set', 'serviceCenter.autoscaling.minReplicas=7'],
    ],
    expect: /minReplicas > maxReplicas/,
  },
  {
    what: 'a five-digit node.regionCode',
    args: [...valid, '--set-string', 'node.regionCode=31000'],
    expect: /regionCode/,
    schema: true,
  },
  {
    what: 'a non-numeric node.regionCode',
    args: [...valid, '--set', 'node.regionCode=shanghai'],
    expect: /regionCode/,
    schema: true,
  },
  {
    what: 'a bad node type (node.type=national)',
    args: [...valid, '--set', 'node.type=national'],
    expect: /node\/type/,
    schema: true,
  },
  {
    what: 'a malformed node.code (node.code=0001)',
    args: [...valid, '--set', 'node.code=0001', '--set', 'node.identifierPrefix=CN.R0001'],
    expect: /node\/code/,
    schema: true,
  },
  {
    what: 'node.code without node.identifierPrefix',
    args: [...valid, '--set', 'node.code=R0001'],
    expect: /set both/,
  },
  {
    what: 'node.identifierPrefix not ending in node.code',
    args: [...valid, '--set', 'node.code=R0001', '--set', 'node.identifierPrefix=CN.R0002'],
    expect: /must end with "\.R0001"/,
  },
  {
    what: 'the identifier without node.name',
    args: [...valid, '--set', 'node.name='],
    expect: /node\.name is required/,
  },
  {
    what: 'the identifier without a national node',
    args: [...valid, '--set', 'nationalNode.endpoint='],
    expect: /set nationalNode\.endpoint/,
  },
  {
    what: 'a typo in serviceCenter.settings (tokenTtl)',
    args: [...valid, '--set', 'serviceCenter.settings.tokenTtl=60'],
    expect: /tokenTtl/,
    schema: true,
  },
  {
    what: 'serviceCenter.settings.tokenTtlSeconds out of range (5)',
    args: [...valid, '--set', 'serviceCenter.settings.tokenTtlSeconds=5'],
    expect: /tokenTtlSeconds/,
    schema: true,
  },
  {
    what: 'a trusted proxy that is no address (a host name)',
    args: [...valid, '--set', 'serviceCenter.settings.trustedProxies[0]=ingress.local'],
    expect: /trustedProxies/,
    schema: true,
  },
  {
    what: 'a token lifetime above what the services accept',
    args: [
      ...valid,
      ...['--set', 'serviceCenter.settings.tokenTtlSeconds=1800'],
      ...['--set', 'auth.maxTokenTtlSeconds=900'],
    ],
    expect: /tokenTtlSeconds \(1800\) must not exceed auth\.maxTokenTtlSeconds/,
  },
  {
    what: "the node's own audience as the national node's",
    args: [...valid, '--set', 'nationalNode.audience=cinode'],
    expect: /audience/,
    schema: true,
  },
  {
    what: 'settings on a service that has none (identifier.settings.x)',
    args: [...valid, '--set', 'identifier.settings.x=1'],
    expect: /identifier\/settings/,
    schema: true,
  },
  {
    what: 'a malformed operator bootstrap key',
    args: [...valid, '--set', 'serviceCenter.settings.operatorBootstrapKey.value=cin_short_key'],
    expect: /operatorBootstrapKey/,
    schema: true,
  },
  {
    what: 'an encryption key that is not base64 of 32 bytes',
    args: [...valid, '--set', 'serviceCenter.settings.signingKeyEncryptionKey.value=c2hvcnQ='],
    expect: /signingKeyEncryptionKey/,
    schema: true,
  },
  {
    what: 'a service signing key that is not an Ed25519 private JWK',
    args: [...valid, '--set-string', 'auth.serviceSigningKey=not-a-jwk'],
    expect: /auth\.serviceSigningKey must be an Ed25519 private JWK/,
  },
  {
    what: "a JWKS without the service key's public half",
    args: [
      ...['-f', join(ciDir, 'production-values.yaml')],
      ...['--set-json', `auth.jwtPublicKeys=${JSON.stringify('{"keys":[]}')}`],
    ],
    expect: /must contain the public half of auth\.serviceSigningKey/,
  },
  {
    what: 'nationalNode.tls.mtls without a secret holding the client certificate',
    args: [...valid, '--set', 'nationalNode.tls.mtls=true'],
    expect: /nationalNode\.tls\.mtls needs nationalNode\.tls\.existingSecret/,
  },
  {
    what: 'a national node TLS secret with nationalNode.tls.enabled=false',
    args: [
      ...valid,
      ...['--set', 'nationalNode.tls.enabled=false'],
      ...['--set', 'nationalNode.tls.existingSecret=cinode-national-node-tls'],
    ],
    expect: /nationalNode\.tls\.existingSecret is set but nationalNode\.tls\.enabled is false/,
  },
  {
    what: 'a typo in nationalNode.tls (caSecret)',
    args: [...valid, '--set', 'nationalNode.tls.caSecret=x'],
    expect: /caSecret/,
    schema: true,
  },
  // A service another enabled one calls cannot be turned off alone; the message names every
  // caller, the variable it calls through and what to set.
  {
    what: 'resource aggregation disabled while the service center, compute selection, reporting and security need it',
    args: [...valid, '--set', 'resourceAggregation.enabled=false'],
    expect:
      /serviceCenter needs resourceAggregation\.enabled \(RESOURCE_AGGREGATION_ADDRESS: orders hold their capacity there\); computeSelection needs resourceAggregation\.enabled \(RESOURCE_AGGREGATION_ADDRESS: its offer index is built from the pools there\); reporting needs resourceAggregation\.enabled \(RESOURCE_AGGREGATION_ADDRESS: reports take their compute information from there\); security needs resourceAggregation\.enabled \(RESOURCE_AGGREGATION_ADDRESS: pools' owners are read there\); set resourceAggregation\.enabled=true, or disable the services that need it/,
  },
  {
    what: 'resource aggregation disabled while compute selection needs it (no service center, reporting or security)',
    args: [
      ...valid,
      ...['--set', 'resourceAggregation.enabled=false', '--set', 'serviceCenter.enabled=false'],
      ...['--set', 'reporting.enabled=false', '--set', 'security.enabled=false'],
    ],
    expect:
      /: computeSelection needs resourceAggregation\.enabled \(RESOURCE_AGGREGATION_ADDRESS: [^)]*\); set resourceAggregation\.enabled=true, or/,
  },
  {
    what: 'compute selection disabled while the service center needs it',
    args: [...valid, '--set', 'computeSelection.enabled=false'],
    expect:
      /: serviceCenter needs computeSelection\.enabled \(COMPUTE_SELECTION_ADDRESS: demands are answered there\); set computeSelection\.enabled=true, or/,
  },
  {
    what: 'the identifier disabled while resource aggregation and compute selection need it',
    args: [...valid, '--set', 'identifier.enabled=false'],
    expect:
      /resourceAggregation needs identifier\.enabled \(IDENTIFIER_ADDRESS: [^)]*\); computeSelection needs identifier\.enabled \(IDENTIFIER_ADDRESS: [^)]*\); set identifier\.enabled=true/,
  },
  {
    what: 'security disabled while reporting needs it',
    args: [...valid, '--set', 'security.enabled=false'],
    expect:
      /: reporting needs security\.enabled \(SECURITY_ADDRESS: reports take their security information from there\); set security\.enabled=true, or disable the services that need it/,
  },
  {
    what: 'the service center disabled while security needs it',
    args: [...valid, '--set', 'serviceCenter.enabled=false'],
    expect:
      /: security needs serviceCenter\.enabled \(SERVICE_CENTER_ADDRESS: participants' certification states are read there\); set serviceCenter\.enabled=true, or/,
  },
  // Reporting: the base information only the operator knows is required; the chart generates the
  // key encryption key, so nothing else is.
  {
    what: 'reporting without its base information',
    args: [...valid, '--set', 'reporting.settings.baseInformation=null'],
    expect:
      /reporting: set reporting\.settings\.baseInformation, the base information of the node's reports \(.*\), or reporting\.enabled=false/,
  },
  {
    what: 'a typo in reporting.settings.baseInformation (organisation_name)',
    args: [...valid, '--set', 'reporting.settings.baseInformation.organisation_name=x'],
    expect: /organisation_name/,
    schema: true,
  },
  {
    what: 'base information with only some of its fields (city)',
    args: ['--set', 'reporting.settings.baseInformation.city=Shanghai'],
    expect: /missing properties 'organization_name', 'entity_type', .*'overview'/,
    schema: true,
  },
  {
    what: 'a base information region_code given as a number',
    args: [
      ...valid,
      '--set',
      'reporting.settings.baseInformation.site_location.region_code=310115',
    ],
    expect: /region_code/,
    schema: true,
  },
  {
    what: 'a base information mobile number that is not 6 to 20 digits',
    args: [...valid, '--set', 'reporting.settings.baseInformation.contact_person.mobile=12-34'],
    expect: /mobile/,
    schema: true,
  },
  {
    what: 'a bad reporting window (08:00-09:00)',
    args: [...valid, '--set', 'reporting.settings.window=08:00-09:00'],
    expect: /window/,
    schema: true,
  },
  {
    what: 'a report key encryption key that is not canonical base64 of 32 bytes',
    args: [
      ...valid,
      ...[
        '--set',
        'reporting.settings.keyEncryptionKey.value=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=',
      ],
    ],
    expect: /keyEncryptionKey/,
    schema: true,
  },
  {
    what: 'security settings it has none of (security.settings.x)',
    args: [...valid, '--set', 'security.settings.x=1'],
    expect: /security\/settings/,
    schema: true,
  },
  {
    what: 'resourceAggregation.settings.poolStaleAfterSeconds out of range (0)',
    args: [...valid, '--set', 'resourceAggregation.settings.poolStaleAfterSeconds=0'],
    expect: /poolStaleAfterSeconds/,
    schema: true,
  },
  {
    what: 'resourceAggregation.settings.historyRetentionDays out of range (3651)',
    args: [...valid, '--set', 'resourceAggregation.settings.historyRetentionDays=3651'],
    expect: /historyRetentionDays/,
    schema: true,
  },
  {
    what: 'resourceAggregation.settings.sweepIntervalMs out of range (10)',
    args: [...valid, '--set', 'resourceAggregation.settings.sweepIntervalMs=10'],
    expect: /sweepIntervalMs/,
    schema: true,
  },
  {
    what: 'a typo in resourceAggregation.settings (holdTtlSeconds)',
    args: [...valid, '--set', 'resourceAggregation.settings.holdTtlSeconds=60'],
    expect: /holdTtlSeconds/,
    schema: true,
  },
  {
    what: 'pools going OFFLINE no later than STALE',
    args: [
      ...valid,
      ...['--set', 'resourceAggregation.settings.poolStaleAfterSeconds=600'],
      ...['--set', 'resourceAggregation.settings.poolOfflineAfterSeconds=600'],
    ],
    expect:
      /resourceAggregation\.settings\.poolOfflineAfterSeconds \(600\) must be above resourceAggregation\.settings\.poolStaleAfterSeconds \(600\)/,
  },
  {
    what: 'computeSelection.settings.latencyDefaultMs out of range (60001)',
    args: [...valid, '--set', 'computeSelection.settings.latencyDefaultMs=60001'],
    expect: /latencyDefaultMs/,
    schema: true,
  },
  {
    what: 'computeSelection.settings.lineHoldSweepIntervalMs out of range (50)',
    args: [...valid, '--set', 'computeSelection.settings.lineHoldSweepIntervalMs=50'],
    expect: /lineHoldSweepIntervalMs/,
    schema: true,
  },
  {
    what: 'a deny-list entry that is no address or range (grpcControls.denyCidrs)',
    args: [...valid, '--set-json', 'grpcControls.denyCidrs=["10.0.0.0/8","evil.example"]'],
    expect: /denyCidrs/,
    schema: true,
  },
  {
    what: 'a negative participant rate limit (grpcControls.participantRateLimit=-1)',
    args: [...valid, '--set', 'grpcControls.participantRateLimit=-1'],
    expect: /participantRateLimit/,
    schema: true,
  },
  {
    what: 'a negative latency (latencySameRegionMs=-1)',
    args: [...valid, '--set', 'computeSelection.settings.latencySameRegionMs=-1'],
    expect: /latencySameRegionMs/,
    schema: true,
  },
  {
    what: 'a province matrix key that is no "PP-PP" pair (310000-11)',
    args: [...valid, '--set', 'computeSelection.settings.latencyProvinceMatrix.310000-11=20'],
    expect: /310000-11/,
    schema: true,
  },
  {
    what: 'a province matrix latency out of range (31-11=70000)',
    args: [...valid, '--set', 'computeSelection.settings.latencyProvinceMatrix.31-11=70000'],
    expect: /latencyProvinceMatrix/,
    schema: true,
  },
  {
    what: 'a province matrix as a JSON string rather than a map',
    args: [
      ...valid,
      ...['--set-string', 'computeSelection.settings.latencyProvinceMatrix={"31-11":28}'],
    ],
    expect: /latencyProvinceMatrix/,
    schema: true,
  },
  {
    what: 'serviceCenter.settings.orderHoldTtlSeconds out of range (4)',
    args: [...valid, '--set', 'serviceCenter.settings.orderHoldTtlSeconds=4'],
    expect: /orderHoldTtlSeconds/,
    schema: true,
  },
  {
    what: 'serviceCenter.settings.marketPeerTimeoutMs out of range (120001)',
    args: [...valid, '--set', 'serviceCenter.settings.marketPeerTimeoutMs=120001'],
    expect: /marketPeerTimeoutMs/,
    schema: true,
  },
  {
    what: 'serviceCenter.settings.orderCandidateMaxAgeSeconds out of range (59)',
    args: [...valid, '--set', 'serviceCenter.settings.orderCandidateMaxAgeSeconds=59'],
    expect: /orderCandidateMaxAgeSeconds/,
    schema: true,
  },
  {
    what: 'orders resumed only after their hold expired',
    args: [
      ...valid,
      ...['--set', 'serviceCenter.settings.orderHoldTtlSeconds=60'],
      ...['--set', 'serviceCenter.settings.orderRecoveryAfterSeconds=90'],
    ],
    expect:
      /serviceCenter\.settings\.orderRecoveryAfterSeconds \(90\) must be below serviceCenter\.settings\.orderHoldTtlSeconds \(60\)/,
  },
];
for (const r of rejects) {
  await check(`rejects ${r.what}`, () => {
    const t = template(r.args);
    assert(!t.ok, 'helm template accepted it');
    assert(r.expect.test(t.output), `failed for another reason:\n${t.output}`);
    if (r.schema) {
      assert(/schema/i.test(t.output), `not rejected by values.schema.json:\n${t.output}`);
      assert(!helm(['lint', '--strict', chartDir, ...r.args]).ok, 'helm lint --strict accepted it');
    }
  });
}

// --- Opting out: values the chart must accept -----------------------------------------------

console.log('\nservices an operator may turn off');
await check(
  'reporting and security off together: the other five services, nothing pointing at them',
  () => {
    const r = template([
      ...valid,
      '--set',
      'reporting.enabled=false',
      '--set',
      'security.enabled=false',
    ]);
    assert(r.ok, r.output);
    const docs = YAML.parseAllDocuments(r.stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
    const running = docs
      .filter((d) => d.kind === 'Deployment')
      .map((d) => d.spec.template.metadata.labels['app.kubernetes.io/component'])
      .sort();
    const want = nodeServices.filter((s) => !['reporting', 'security'].includes(s));
    assert(
      JSON.stringify(running) === JSON.stringify(want),
      `expected Deployments of ${want.join(', ')}, got ${running.join(', ')}`,
    );
    const names = docs.map((d) => d.metadata.name);
    assert(
      !names.some((n) => /-(reporting|security)(-migration)?$/.test(n)),
      `resources of reporting or security rendered: ${names.filter((n) => /reporting|security/.test(n))}`,
    );
    for (const d of docs.filter((doc) => ['Deployment', 'Job'].includes(doc.kind))) {
      const env = envOf(podSpecOf(d).containers[0]);
      assert(!env.SECURITY_ADDRESS, `${id(d)}: SECURITY_ADDRESS set with security disabled`);
    }
  },
);
await check('reporting off alone renders (nothing calls it)', () => {
  const r = template([...valid, '--set', 'reporting.enabled=false']);
  assert(r.ok, r.output);
});

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
