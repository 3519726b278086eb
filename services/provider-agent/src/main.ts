import { parseArgs } from 'node:util';
import { ConfigError } from '@cinode/config';
import { clientCredentials, createGrpcClient } from '@cinode/grpc';
import { createLogger } from '@cinode/logging';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { SecurityServiceClient } from '@cinode/proto/gen/cinode/security/v1/security_service';
import { ProviderAgent, type AttackFeeds } from './agent';
import { AttackLogTailer } from './attacks/attack-log-tailer';
import { SimulatedAttacks } from './attacks/simulated-attacks';
import { AGENT_NAME, apiKeyOf, loadAgentConfig, nodeTransport, securityAddressOf } from './config';
import type { InventorySource } from './inventory/inventory-source';
import { SimulatedInventory } from './inventory/simulator';
import { InventoryFileError, YamlInventory } from './inventory/yaml-inventory';
import { TokenSource } from './southbound/token-source';

/**
 * The node is far and its agents many: after an outage of the node they come back spread over up
 * to half a minute (grpc-js's jitter on a longer cap), not all within the node's own 5 s.
 */
const AGENT_CHANNEL = { 'grpc.max_reconnect_backoff_ms': 30_000 };

const USAGE = `provider-agent: the reference southbound client of a cinode node.

  node dist/services/provider-agent/src/main.js --simulate <N> [--seed <S>] [--simulate-attacks <PER_HOUR>]
  node dist/services/provider-agent/src/main.js --inventory <file.yaml>
  ... [--attack-events <file.jsonl>] [--security-address <host:port>]

  --simulate N            simulate N pools (1 to 10000) whose load drifts; the same seed, the same pools
  --seed S                seed of the simulation (default 1)
  --simulate-attacks H    with --simulate: about H synthetic attack events an hour (default 0: none)
  --inventory F           report the pools of a YAML file, re-read at every snapshot (README.md)
  --attack-events F       send the attack events an intrusion-detection system appends to F (JSON lines)
  --security-address A    the node's security service (default SECURITY_ADDRESS, else the host of
                          RESOURCE_AGGREGATION_ADDRESS at port 50075)

Configuration from the environment: SERVICE_CENTER_ADDRESS, RESOURCE_AGGREGATION_ADDRESS,
PROVIDER_API_KEY or PROVIDER_API_KEY_FILE, SECURITY_ADDRESS, and the intervals in
services/provider-agent/README.md.`;

interface Arguments {
  source: InventorySource;
  attackEvents?: string;
  securityAddress?: string;
  simulatedAttacks?: SimulatedAttacks;
}

async function argumentsOf(argv: string[]): Promise<Arguments> {
  const { values } = parseArgs({
    args: argv,
    options: {
      simulate: { type: 'string' },
      seed: { type: 'string', default: '1' },
      inventory: { type: 'string' },
      'simulate-attacks': { type: 'string', default: '0' },
      'attack-events': { type: 'string' },
      'security-address': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if ((values.simulate === undefined) === (values.inventory === undefined))
    throw new UsageError('give exactly one of --simulate N and --inventory FILE');
  const attacks = {
    attackEvents: values['attack-events'],
    securityAddress: values['security-address'],
  };
  const perHour = Number(values['simulate-attacks']);
  if (!Number.isFinite(perHour) || perHour < 0 || perHour > 360_000)
    throw new UsageError(
      `--simulate-attacks must be a number from 0 to 360000, not "${values['simulate-attacks']}"`,
    );
  if (perHour > 0 && values.simulate === undefined)
    throw new UsageError('--simulate-attacks needs --simulate');
  if (values.inventory !== undefined)
    return { source: await YamlInventory.load(values.inventory), ...attacks };
  const count = Number(values.simulate);
  const seed = Number(values.seed);
  if (!Number.isInteger(count) || count < 1 || count > 10_000)
    throw new UsageError(
      `--simulate must be a whole number from 1 to 10000, not "${values.simulate}"`,
    );
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    throw new UsageError(
      `--seed must be a whole number from 0 to 4294967295, not "${values.seed}"`,
    );
  return {
    source: new SimulatedInventory(count, seed),
    ...attacks,
    simulatedAttacks: perHour > 0 ? new SimulatedAttacks(perHour, seed) : undefined,
  };
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let args: Arguments;
  let config;
  try {
    args = await argumentsOf(process.argv.slice(2));
    config = loadAgentConfig();
  } catch (error) {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
    else if (error instanceof ConfigError || error instanceof InventoryFileError)
      console.error(error.message);
    else throw error;
    process.exit(2);
  }
  const logger = createLogger({ service: AGENT_NAME, level: config.LOG_LEVEL });
  const credentials = clientCredentials(nodeTransport(config));
  const tokenClient = createGrpcClient<TokenServiceClient>('cinode.credential.v1.TokenService', {
    address: config.SERVICE_CENTER_ADDRESS,
    credentials,
    defaultTimeoutMs: config.CALL_TIMEOUT_MS,
    channelOptions: AGENT_CHANNEL,
  });
  const resources = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
    address: config.RESOURCE_AGGREGATION_ADDRESS,
    credentials,
    defaultTimeoutMs: config.CALL_TIMEOUT_MS,
    channelOptions: AGENT_CHANNEL,
  });
  let attacks: AttackFeeds | undefined;
  if (args.attackEvents !== undefined || args.simulatedAttacks) {
    const address = securityAddressOf(config, args.securityAddress);
    attacks = {
      security: createGrpcClient<SecurityServiceClient>('cinode.security.v1.SecurityService', {
        address,
        credentials,
        defaultTimeoutMs: config.CALL_TIMEOUT_MS,
        channelOptions: AGENT_CHANNEL,
      }),
      file: args.attackEvents !== undefined ? new AttackLogTailer(args.attackEvents) : undefined,
      simulated: args.simulatedAttacks,
    };
  }
  const agent = new ProviderAgent(
    config,
    args.source,
    new TokenSource(tokenClient.api, apiKeyOf(config)),
    resources,
    logger,
    attacks,
  );
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      logger.info(`${signal}: stopping`);
      await agent.stop();
      tokenClient.close();
      resources.close();
      attacks?.security.close();
      process.exit(0);
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await agent.start();
  } catch (error) {
    logger.fatal({ err: error }, 'the agent could not start');
    await agent.stop();
    process.exit(1);
  }
}

void main();
