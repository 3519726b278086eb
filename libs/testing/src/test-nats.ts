// Not imported by the Jest global setup: that runs outside Jest's module mapping, where the
// @cinode/* aliases do not resolve.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '@cinode/local-infra';

export interface TestNats {
  url: string;
  stop(): Promise<void>;
}

/**
 * A NATS server of the calling test file's own. JetStream stream names and subjects are global on a
 * server, so services whose streams have fixed names (PARTICIPANT, IDENTIFIER, the dead-letter
 * stream) cannot share one server between test files running in parallel: each file that starts a
 * service takes its own throwaway server here (it starts in milliseconds). With TEST_NATS_URL set,
 * that external server is shared instead, and such files must not run in parallel (`--runInBand`).
 */
export async function startTestNats(): Promise<TestNats> {
  if (process.env.TEST_NATS_URL)
    return { url: process.env.TEST_NATS_URL, stop: async () => undefined };
  const storeDir = mkdtempSync(join(tmpdir(), 'cinode-test-nats-'));
  const nats = await startNatsServer({ storeDir, persistent: false });
  return { url: nats.url, stop: () => nats.stop() };
}
