import { parseArgs } from 'node:util';
import { ConfigError } from '@cinode/config';
import { clientCredentials, createGrpcClient } from '@cinode/grpc';
import { createLogger } from '@cinode/logging';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { ProviderAgent } from './agent';
import { AGENT_NAME, apiKeyOf, loadAgentConfig, nodeTransport } from './config';
import type { InventorySource } from './inventory/inventory-source';
import { SimulatedInventory } from './inventory/simulator';
import { InventoryFileError, YamlInventory } from './inventory/yaml-inventory';
import { TokenSource } from './southbound/token-source';

const USAGE = `provider-agent: the reference southbound client of a cinode node.

  node dist/services/provider-agent/src/main.js --simulate <N> [--seed <S>]
  node dist/services/provider-agent/src/main.js --inventory <file.yaml>

  --simulate N    simulate N pools (1 to 10000) whose load drifts; the same seed, the same pools
  --seed S        seed of the simulation (default 1)
  --inventory F   report the pools of a YAML file, re-read at every snapshot (README.md)

Configuration from the environment: SERVICE_CENTER_ADDRESS, RESOURCE_AGGREGATION_ADDRESS,
PROVIDER_API_KEY or PROVIDER_API_KEY_FILE, and the intervals in services/provider-agent/README.md.`;

async function sourceOf(argv: string[]): Promise<InventorySource> {
  const { values } = parseArgs({
    args: argv,
    options: {
      simulate: { type: 'string' },
      seed: { type: 'string', default: '1' },
      inventory: { type: 'string' },
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
  if (values.inventory !== undefined) return YamlInventory.load(values.inventory);
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
  return new SimulatedInventory(count, seed);
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let source: InventorySource;
  let config;
  try {
    source = await sourceOf(process.argv.slice(2));
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
  });
  const resources = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
    address: config.RESOURCE_AGGREGATION_ADDRESS,
    credentials,
    defaultTimeoutMs: config.CALL_TIMEOUT_MS,
  });
  const agent = new ProviderAgent(
    config,
    source,
    new TokenSource(tokenClient.api, apiKeyOf(config)),
    resources,
    logger,
  );
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      logger.info(`${signal}: stopping`);
      await agent.stop();
      tokenClient.close();
      resources.close();
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
