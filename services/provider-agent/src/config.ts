import { readFileSync } from 'node:fs';
import {
  clientTlsShape,
  envInt,
  envOptional,
  grpcClientTransport,
  loadConfig,
  type ClientTransport,
  type ConfigProblem,
  type ServiceConfigDefinition,
} from '@cinode/config';
import { z } from 'zod';

export const AGENT_NAME = 'provider-agent';

const schema = z.object({
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** host:port of the node's service center (IssueToken). */
  SERVICE_CENTER_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** host:port of the node's resource aggregation (the southbound API). */
  RESOURCE_AGGREGATION_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /**
   * host:port of the node's security service (SubmitAttackEvents), when attack events are
   * reported; default: RESOURCE_AGGREGATION_ADDRESS's host at the security service's port.
   */
  SECURITY_ADDRESS: envOptional(),
  /** The provider's API key, "cin_<prefix>_<secret>"; or PROVIDER_API_KEY_FILE. */
  PROVIDER_API_KEY: envOptional(),
  /** A file holding the API key (a mounted secret). */
  PROVIDER_API_KEY_FILE: envOptional(),
  /** How often inventory is observed and pushed (StreamInventory). */
  SNAPSHOT_INTERVAL_MS: envInt(5_000, 100, 600_000),
  /** How often every pool sends a heartbeat; below the node's stale interval (90 s by default). */
  HEARTBEAT_INTERVAL_MS: envInt(30_000, 100, 3_600_000),
  /** How long one StreamInventory call stays open before the next (under the node's maximum deadline). */
  STREAM_LIFETIME_MS: envInt(60_000, 1_000, 3_600_000),
  /** How often new and changed allocations are polled (ListAllocations with the last sequence). */
  ALLOCATION_POLL_MS: envInt(1_000, 50, 600_000),
  /** Simulated executor: from a pending allocation to RUNNING ... */
  TASK_START_DELAY_MS: envInt(1_500, 0, 3_600_000),
  /** ... and from RUNNING to COMPLETED. */
  TASK_DURATION_MS: envInt(8_000, 0, 7 * 86_400_000),
  /** Deadline of each unary call to the node. */
  CALL_TIMEOUT_MS: envInt(10_000, 100, 600_000),
  /** TLS to the node (GRPC_CLIENT_TLS, _CA_FILE, _CERT_FILE, _KEY_FILE): plaintext only when unset. */
  ...clientTlsShape('GRPC_CLIENT'),
});

export type AgentConfig = z.infer<typeof schema>;

function rules(config: AgentConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if ((config.PROVIDER_API_KEY === undefined) === (config.PROVIDER_API_KEY_FILE === undefined))
    problems.push({
      key: 'PROVIDER_API_KEY',
      problem: 'set exactly one of PROVIDER_API_KEY and PROVIDER_API_KEY_FILE',
    });
  return problems;
}

export const agentConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: AGENT_NAME,
  schema,
  rules,
  secrets: ['PROVIDER_API_KEY'],
};

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return loadConfig(agentConfigDefinition, env);
}

/** The API key, from the variable or the file (trimmed). */
export function apiKeyOf(config: AgentConfig): string {
  if (config.PROVIDER_API_KEY !== undefined) return config.PROVIDER_API_KEY;
  return readFileSync(config.PROVIDER_API_KEY_FILE ?? '', 'utf8').trim();
}

/** The security service's gRPC port on a node (services/security/service.json, grpcPort). */
export const SECURITY_GRPC_PORT = 50075;

/**
 * Where attack events go: the --security-address flag, else SECURITY_ADDRESS, else the security
 * service's port on the host resource aggregation is reached at (the node's services share a host
 * in a local node; a deployment with one name per service sets the address).
 */
export function securityAddressOf(config: AgentConfig, flag: string | undefined): string {
  if (flag) return flag;
  if (config.SECURITY_ADDRESS) return config.SECURITY_ADDRESS;
  const resources = config.RESOURCE_AGGREGATION_ADDRESS;
  const colon = resources.lastIndexOf(':');
  const host = colon > 0 && !resources.endsWith(']') ? resources.slice(0, colon) : resources;
  return `${host}:${SECURITY_GRPC_PORT}`;
}

export function nodeTransport(config: AgentConfig): ClientTransport {
  return grpcClientTransport({ ...config, GRPC_TLS_CERT_FILE: undefined });
}
