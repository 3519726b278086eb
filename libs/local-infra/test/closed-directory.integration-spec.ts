import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../src/embedded-postgres';

/**
 * A clone under /root: a directory only its owner may enter (mode 0700). As root, Postgres runs as
 * an unprivileged user, which could not reach a cluster kept there; the cluster must still start,
 * answer and stop (and be gone after a non-persistent stop).
 */
describe('embedded Postgres asked to keep its cluster behind a mode-0700 directory', () => {
  let closed: string;

  beforeAll(() => {
    closed = fs.mkdtempSync(path.join(os.tmpdir(), 'cinode-closed-'));
    fs.chmodSync(closed, 0o700);
  });

  afterAll(() => {
    fs.rmSync(closed, { recursive: true, force: true });
  });

  it('starts, answers and stops', async () => {
    const asked = path.join(closed, 'clone', '.data', 'postgres');
    const postgres = await startEmbeddedPostgres({ dataDir: asked, persistent: false });
    try {
      const client = new Client({ connectionString: postgres.adminUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ answer: number }>('SELECT 6 * 7 AS answer');
        expect(rows[0].answer).toBe(42);
      } finally {
        await client.end();
      }
    } finally {
      await postgres.stop();
    }
    expect(fs.existsSync(asked)).toBe(false);
  }, 120_000);
});
