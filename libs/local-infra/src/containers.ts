import type { StartedPostgres } from './embedded-postgres';
import type { StartedNats } from './nats-server';
import { ensureDatabase } from './postgres-admin';

export const POSTGRES_IMAGE = 'postgres:17-alpine';
export const NATS_IMAGE = 'nats:2.10-alpine';

/** True when testcontainers finds a Docker-compatible runtime that answers. */
export async function isContainerRuntimeAvailable(): Promise<boolean> {
  try {
    // Loaded on demand: testcontainers pulls in a Docker client nobody needs when URLs are given.
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startPostgresContainer(
  options: { image?: string; password?: string } = {},
): Promise<StartedPostgres> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const password = options.password ?? 'postgres';
  const container = await new GenericContainer(options.image ?? POSTGRES_IMAGE)
    .withEnvironment({ POSTGRES_PASSWORD: password })
    .withExposedPorts(5432)
    .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
    .withCommand([
      'postgres',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ])
    // The entrypoint starts a temporary server for its init scripts first; the second line is the real one.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(5432);
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@${host}:${port}/postgres`;
  return {
    adminUrl,
    host,
    port,
    createDatabase: (name) => ensureDatabase(adminUrl, name),
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startNatsContainer(options: { image?: string } = {}): Promise<StartedNats> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(options.image ?? NATS_IMAGE)
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  const port = container.getMappedPort(4222);
  return {
    url: `nats://${container.getHost()}:${port}`,
    port,
    stop: async () => {
      await container.stop();
    },
  };
}
