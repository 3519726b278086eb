// `npm run token`: a development caller token, signed with the local key pair that `npm start`
// keeps in .data/auth/ (the services it starts trust exactly that key). Prints the token alone, so
// it can be used as $(npm run -s token -- --role service).
//
//   npm run -s token -- --role operator [--role regulator] [--subject alice] [--tenant t] [--ttl 3600]
//
//   --role      a role to put in the token (repeatable, or comma-separated); required
//   --subject   the caller id (sub claim); default dev-<first role>
//   --tenant    the data scope (tenant claim); default the subject
//   --ttl       lifetime in seconds; default 3600 (services refuse more than AUTH_JWT_MAX_TTL_SECONDS)
//   --issuer    iss claim; default $AUTH_JWT_ISSUER or cinode (what the services expect by default)
//   --audience  aud claim; default $AUTH_JWT_AUDIENCE or cinode (the node's services);
//               national-node for the national node mock, which refuses the node's audience
//   --key       private JWK file; default .data/auth/signing-key.jwk.json
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/bootstrap.mjs';

// Keep in step with libs/auth/src/roles.ts.
const ROLES = [
  'operator',
  'provider',
  'reseller',
  'application_provider',
  'line_provider',
  'user',
  'regulator',
  'national_node',
  'service',
];
const DEFAULT_KEY = join(ROOT, '.data', 'auth', 'signing-key.jwk.json');
// Service-role tokens are signed with the node's service key, which may sign nothing else.
const SERVICE_KEY = join(ROOT, '.data', 'auth', 'service-signing-key.jwk.json');

/** The opening comment block of this file. */
function usage() {
  const lines = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines
    .slice(0, end)
    .map((l) => l.slice(3))
    .join('\n');
}

function fail(message, code = 2) {
  console.error(`token: ${message}`);
  process.exit(code);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string', multiple: true },
      subject: { type: 'string' },
      tenant: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)} (try --help)`);
}
if (values.help) {
  console.log(usage());
  process.exit(0);
}

const roles = [
  ...new Set(
    (values.role ?? [])
      .flatMap((r) => r.split(','))
      .map((r) => r.trim())
      .filter(Boolean),
  ),
];
if (roles.length === 0) fail(`--role is required; one of: ${ROLES.join(', ')}`);
const unknownRoles = roles.filter((r) => !ROLES.includes(r));
if (unknownRoles.length > 0)
  fail(`unknown role(s): ${unknownRoles.join(', ')}; known: ${ROLES.join(', ')}`);

const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1 || ttl > 31 * 24 * 3600)
  fail(`--ttl must be a whole number of seconds between 1 and ${31 * 24 * 3600}`);

const subject = values.subject ?? `dev-${roles[0]}`;
if (subject === '') fail('--subject must not be empty');
const tenant = values.tenant ?? subject;
const issuer = values.issuer ?? nonEmpty(process.env.AUTH_JWT_ISSUER) ?? 'cinode';
const audience = values.audience ?? nonEmpty(process.env.AUTH_JWT_AUDIENCE) ?? 'cinode';

if (roles.includes('service') && roles.length > 1)
  fail('the service role cannot be combined with others', 2);
const keyFile = values.key ?? (roles.includes('service') ? SERVICE_KEY : DEFAULT_KEY);
if (!existsSync(keyFile)) {
  fail(
    values.key
      ? `no key file at ${keyFile}`
      : `no local signing key at ${keyFile}; run \`npm start\` first (it creates the key pair ` +
          `the services trust), then run this again`,
    1,
  );
}
let jwk;
try {
  jwk = JSON.parse(readFileSync(keyFile, 'utf8'));
} catch (error) {
  fail(`cannot read ${keyFile}: ${error instanceof Error ? error.message : String(error)}`, 1);
}
if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string')
  fail(`${keyFile} is not an Ed25519 private JWK`, 1);

let jose;
try {
  jose = createRequire(join(ROOT, 'package.json'))('jose');
} catch {
  fail('the jose package is not installed; run `npm start` (or `npm ci`) first', 1);
}

const alg = 'EdDSA';
const key = await jose.importJWK(jwk, alg);
const now = Math.floor(Date.now() / 1000);
const token = await new jose.SignJWT({ roles, tenant })
  .setProtectedHeader({ alg, typ: 'JWT', ...(jwk.kid ? { kid: jwk.kid } : {}) })
  .setIssuer(issuer)
  .setAudience(audience)
  .setSubject(subject)
  .setIssuedAt(now)
  .setExpirationTime(now + ttl)
  .setJti(randomUUID())
  .sign(key);
process.stdout.write(`${token}\n`);

function nonEmpty(value) {
  return value === undefined || value === '' ? undefined : value;
}
