#!/usr/bin/env node
// Prints fresh keys for deploy/compose.yaml as .env lines (docs/adr/0001):
//   node deploy/generate-env.mjs > deploy/.env
// The node's service key (an Ed25519 private JWK marked "cinode_scope":"service"), the JWKS every
// service trusts (its public half; participants' keys come from the service center), the service
// center's key-encryption key and the bootstrap operator's API key. Keep the file private; it is
// git-ignored. Regenerating replaces the encryption key: start from an empty database then
// (`docker compose -f deploy/compose.yaml down -v`).
import { generateKeyPairSync, randomBytes, randomInt, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const base62 = (n) => Array.from({ length: n }, () => BASE62[randomInt(62)]).join('');

const serviceKey = {
  ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }),
  kid: `service-${randomUUID()}`,
  alg: 'EdDSA',
  use: 'sig',
  cinode_scope: 'service',
};
const { d: _private, ...servicePublicKey } = serviceKey;

// Single quotes: compose's .env parser takes the JSON literally.
console.log(`CINODE_SERVICE_SIGNING_KEY='${JSON.stringify(serviceKey)}'`);
console.log(`CINODE_JWT_PUBLIC_KEYS='${JSON.stringify({ keys: [servicePublicKey] })}'`);
console.log(`CINODE_SIGNING_KEY_ENCRYPTION_KEY='${randomBytes(32).toString('base64')}'`);
console.log(`CINODE_REPORT_KEY_ENCRYPTION_KEY='${randomBytes(32).toString('base64')}'`);
console.log(`CINODE_OPERATOR_BOOTSTRAP_KEY='cin_${base62(8)}_${base62(32)}'`);
