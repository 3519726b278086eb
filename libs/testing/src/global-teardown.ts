import * as fs from 'node:fs';
import { clearTestInfraState, loadLocalInfra, testInfraState } from './global-setup';
import { TEST_INFRA_ENV } from './infra';

/** Stops what the global setup started; on a server we do not own, drops this run's databases. */
export default async function globalTeardown(): Promise<void> {
  const state = testInfraState();
  if (state === undefined) return;
  clearTestInfraState();
  const errors: unknown[] = [];

  if (state.externalPostgres) {
    try {
      const infra = await loadLocalInfra();
      await infra.dropDatabasesWithPrefix(state.postgresAdminUrl, state.databasePrefix);
    } catch (error: unknown) {
      errors.push(error);
    }
  }
  for (const stop of [...state.stops].reverse()) {
    try {
      await stop();
    } catch (error: unknown) {
      errors.push(error);
    }
  }
  if (state.tempDir !== undefined) fs.rmSync(state.tempDir, { recursive: true, force: true });
  for (const name of Object.values(TEST_INFRA_ENV)) delete process.env[name];
  if (errors.length > 0)
    throw new AggregateError(errors, 'test infrastructure did not stop cleanly');
}
