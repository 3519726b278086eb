import manifest from '../service.json';
import { API_KEY_PATTERN, ENCRYPTION_KEY_TEXT_PROBLEM, isEncryptionKeyText } from '@cinode/common';
import {
  baseServiceSchema,
  envInt,
  envOptional,
  eventsConfigShape,
  loadConfig,
  type ServiceConfigDefinition,
  serviceAddressShape,
} from '@cinode/config';
import { z } from 'zod';
import { invalidProxyEntries } from './tokens/client-address';

export const SERVICE_NAME = manifest.name;

const schema = baseServiceSchema.extend({
  ...serviceAddressShape(manifest),
  ...eventsConfigShape,
  /** Lifetime of issued participant tokens; bounds how long a revoked participant's tokens work. */
  TOKEN_TTL_SECONDS: envInt(300, 30, 3600),
  /** Failed IssueToken attempts allowed per key prefix from one address within the window. */
  TOKEN_FAILED_ATTEMPT_LIMIT: envInt(10, 1, 10_000),
  /**
   * Failed attempts allowed per source address within the window: higher than per prefix, since
   * many legitimate clients can share one address behind a NAT.
   */
  TOKEN_FAILED_ADDRESS_LIMIT: envInt(100, 1, 100_000),
  /**
   * Comma-separated addresses or CIDR ranges of the proxies in front of the service center (load
   * balancer, ingress) whose X-Forwarded-For names the caller for these limits. From any other peer
   * the header is ignored. Unset: none; the peer's address counts.
   */
  TOKEN_TRUSTED_PROXIES: envOptional().refine(
    (v) => v === undefined || invalidProxyEntries(v).length === 0,
    'must be comma-separated IP addresses or CIDR ranges (e.g. 10.0.0.0/8,fd00::/8)',
  ),
  TOKEN_FAILED_ATTEMPT_WINDOW_SECONDS: envInt(300, 1, 86_400),
  /**
   * Base64 of 32 random bytes: the AES-256-GCM key that encrypts signing keys at rest. Required in
   * production; elsewhere a fixed development key is used (with a warning) so `npm start` works.
   */
  SIGNING_KEY_ENCRYPTION_KEY: envOptional().refine(
    (v) => v === undefined || isEncryptionKeyText(v),
    ENCRYPTION_KEY_TEXT_PROBLEM,
  ),
  /** A full API key ("cin_<prefix>_<secret>") that the bootstrap operator is ensured to hold. */
  OPERATOR_BOOTSTRAP_KEY: envOptional().refine(
    (v) => v === undefined || API_KEY_PATTERN.test(v),
    'must be a full API key: cin_<8 base62>_<32 base62>',
  ),
  OPERATOR_BOOTSTRAP_NAME: z.string().min(1).max(200).default('Node operator'),
  /** host:port of compute selection, which answers demands. */
  COMPUTE_SELECTION_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** host:port of resource aggregation, which holds orders' capacity. */
  RESOURCE_AGGREGATION_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each call to compute selection and resource aggregation. */
  MARKET_PEER_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /**
   * How long a demand's candidates may be ordered: past it, PlaceOrder asks for the demand to be
   * submitted again, so no order is placed on prices, levels or paths selection no longer offers.
   */
  ORDER_CANDIDATE_MAX_AGE_SECONDS: envInt(1_800, 60, 604_800),
  /** Lifetime of an order's hold between taking it and confirming it. */
  ORDER_HOLD_TTL_SECONDS: envInt(120, 5, 3_600),
  /** An order still PLACING after this long (its placing call failed) is resumed by the node. */
  ORDER_RECOVERY_AFTER_SECONDS: envInt(30, 1, 3_600),
  /** How often orders left PLACING are looked for; 0 turns it off. */
  ORDER_RECOVERY_INTERVAL_MS: envInt(10_000, 0, 3_600_000),
  /** How often the qualification expiry sweep runs; 0 turns it off (expiry is still honoured on read). */
  QUALIFICATION_SWEEP_INTERVAL_MS: envInt(30_000, 0, 3_600_000),
  /** How long verifiers may cache GetJwks, and how often this service re-reads its own keys. */
  JWKS_CACHE_SECONDS: envInt(60, 1, 3600),
});

export type ServiceCenterConfig = z.infer<typeof schema>;

export const SECRET_KEYS = ['SIGNING_KEY_ENCRYPTION_KEY', 'OPERATOR_BOOTSTRAP_KEY'] as const;

export const serviceCenterConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
  secrets: SECRET_KEYS,
  rules: (config) => [
    ...(config.NODE_ENV === 'production' && config.SIGNING_KEY_ENCRYPTION_KEY === undefined
      ? [{ key: 'SIGNING_KEY_ENCRYPTION_KEY', problem: 'is required in production' }]
      : []),
    // A resumed order confirms the hold its first attempt took: it must still be alive by then.
    ...(config.ORDER_RECOVERY_AFTER_SECONDS >= config.ORDER_HOLD_TTL_SECONDS
      ? [{ key: 'ORDER_RECOVERY_AFTER_SECONDS', problem: 'must be below ORDER_HOLD_TTL_SECONDS' }]
      : []),
    // Every service refuses tokens living longer than its AUTH_JWT_MAX_TTL_SECONDS.
    ...(config.TOKEN_TTL_SECONDS > config.AUTH_JWT_MAX_TTL_SECONDS
      ? [{ key: 'TOKEN_TTL_SECONDS', problem: 'must not exceed AUTH_JWT_MAX_TTL_SECONDS' }]
      : []),
  ],
};

/**
 * Publicly known, so it protects nothing: it exists only so a development node starts without
 * secrets. Production refuses to start without SIGNING_KEY_ENCRYPTION_KEY.
 */
const DEVELOPMENT_ENCRYPTION_KEY = Buffer.alloc(32, 'cinode-development-only-key!!!!!');

export function loadServiceCenterConfig(env: NodeJS.ProcessEnv = process.env): ServiceCenterConfig {
  return loadConfig(serviceCenterConfigDefinition, env);
}

export function encryptionKeyOf(config: ServiceCenterConfig): {
  key: Buffer;
  development: boolean;
} {
  if (config.SIGNING_KEY_ENCRYPTION_KEY === undefined)
    return { key: DEVELOPMENT_ENCRYPTION_KEY, development: true };
  return { key: Buffer.from(config.SIGNING_KEY_ENCRYPTION_KEY, 'base64'), development: false };
}
