import manifest from '../service.json';
import {
  baseServiceSchema,
  envBoolean,
  envInt,
  eventsConfigShape,
  loadConfig,
  type ServiceConfigDefinition,
  serviceAddressShape,
} from '@cinode/config';
import { z } from 'zod';

export const SERVICE_NAME = manifest.name;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const schema = baseServiceSchema.extend({
  ...serviceAddressShape(manifest),
  ...eventsConfigShape,
  /** How far in the future an attack time may lie (reporters' clocks differ from the node's). */
  ATTACK_CLOCK_SKEW_MS: envInt(5 * MINUTE, 0, HOUR),
  /**
   * New attack events one reporter may send in 24 hours: what a report can carry is bounded, and
   * one noisy or hostile reporter must not drown the others (RESOURCE_EXHAUSTED beyond it).
   */
  MAX_ATTACK_EVENTS_PER_SOURCE_PER_DAY: envInt(5_000, 1, 1_000_000),
  /** How long an attack event counts towards its target's risk, from its attack time. */
  RISK_ATTACK_WINDOW_MS: envInt(DAY, MINUTE, 30 * DAY),
  /**
   * How often risks that can change with time alone are assessed again (attacks leaving the
   * window, findings passing their due date) and lapsed risk acceptances reopen.
   */
  RISK_REASSESS_INTERVAL_MS: envInt(MINUTE, 100, HOUR),
  /** Days a finding of each severity may stay open before it is overdue. */
  FINDING_SLA_DAYS_CRITICAL: envInt(7, 1, 365),
  FINDING_SLA_DAYS_HIGH: envInt(30, 1, 365),
  FINDING_SLA_DAYS_MEDIUM: envInt(90, 1, 730),
  FINDING_SLA_DAYS_LOW: envInt(180, 1, 730),
  /** Endpoints one participant may register. */
  MAX_ENDPOINTS_PER_PARTICIPANT: envInt(20, 1, 1_000),
  /** How often each endpoint is checked; 0 turns the scheduled checks off (on demand still works). */
  POSTURE_INTERVAL_MS: envInt(6 * HOUR, 0, 30 * DAY),
  /** Posture checks per minute per replica, scheduled and on demand together. */
  POSTURE_RATE_PER_MINUTE: envInt(30, 1, 6_000),
  /** Time each connection of a posture check may take. */
  POSTURE_TIMEOUT_MS: envInt(5_000, 100, 60_000),
  /** Days before a certificate's expiry from which a check reports it expiring. */
  POSTURE_EXPIRY_WARNING_DAYS: envInt(30, 1, 365),
  /**
   * Whether checks may connect to loopback, private and link-local addresses. Off in production:
   * a registered endpoint must not make the node probe its own network. On for a local node.
   */
  POSTURE_ALLOW_PRIVATE_ADDRESSES: envBoolean(false),
  /** Where the pools are (the projection of pools' owners is filled from it at start). */
  RESOURCE_AGGREGATION_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Where the participants are (their certification state is filled from it at start). */
  SERVICE_CENTER_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Time each call to them may take. */
  PEER_TIMEOUT_MS: envInt(10_000, 100, 60_000),
  /**
   * How often pools and participants are read whole from their services, besides their events:
   * events older than the streams keep (7 days) never reach a new replica or a new install.
   */
  BACKFILL_INTERVAL_MS: envInt(6 * HOUR, MINUTE, 7 * DAY),
  /** How often the quarantine bucket is brought in line with the database. */
  QUARANTINE_SYNC_INTERVAL_MS: envInt(30_000, 100, HOUR),
});

export type SecurityConfig = z.infer<typeof schema>;

export const securityConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
  secrets: [],
};

/** Validates the environment; throws a ConfigError listing every bad key. */
export function loadSecurityConfig(env: NodeJS.ProcessEnv = process.env): SecurityConfig {
  return loadConfig(securityConfigDefinition, env);
}
