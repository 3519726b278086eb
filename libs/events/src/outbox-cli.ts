import { Client } from 'pg';
import { listParkedOutboxRows, requeueParkedOutboxRows } from './outbox/outbox-admin';

export const OUTBOX_USAGE = `Parked outbox events of one service: list and requeue.

  npm run outbox -- --service NAME list [--limit N] [--json]
  npm run outbox -- --service NAME requeue ID     put one back in line
  npm run outbox -- --service NAME requeue --all  put every parked row back in line

An outbox row is parked when publishing it failed OUTBOX_MAX_ATTEMPTS times while NATS otherwise
worked (cinode_outbox_parked counts them). Requeued rows are published on the relay's next round.
--service NAME uses the database npm start made for that service; DATABASE_URL (or --database URL)
selects any other, e.g. a port-forwarded one.`;

interface Output {
  out(line: string): void;
  err(line: string): void;
}

class UsageError extends Error {}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `npm run outbox` command (`node dist/libs/events/src/outbox-cli.js` in an image). Returns the
 * exit code: 0 done, 1 failed, 2 bad usage.
 */
export async function runOutboxCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Output = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const [command, ...rest] = positional;
  if (!command || command === 'help' || args.includes('--help')) {
    io.out(OUTBOX_USAGE);
    return command || args.includes('--help') ? 0 : 2;
  }
  let client: Client | undefined;
  try {
    const url = flag(args, '--database') ?? env.DATABASE_URL;
    if (!url)
      throw new UsageError('no database: give --service NAME, --database URL or DATABASE_URL');
    client = new Client({ connectionString: url, application_name: 'outbox-cli' });
    await client.connect();
    switch (command) {
      case 'list': {
        const limitFlag = flag(args, '--limit');
        const limit = limitFlag === undefined ? 100 : Number(limitFlag);
        if (!Number.isSafeInteger(limit) || limit < 1)
          throw new UsageError('--limit must be a positive integer');
        const rows = await listParkedOutboxRows(client, limit);
        if (args.includes('--json')) io.out(JSON.stringify(rows, null, 2));
        else {
          io.out(
            `${'id'.padEnd(36)}  ${'event'.padEnd(44)}  tries  parked at                 error`,
          );
          for (const row of rows)
            io.out(
              [
                row.id,
                row.type.padEnd(44),
                String(row.attempts).padStart(5),
                row.parkedAt.toISOString(),
                row.lastError,
              ].join('  '),
            );
          io.out(`${rows.length} parked row(s)`);
        }
        return 0;
      }
      case 'requeue': {
        const all = args.includes('--all');
        const id = rest[0];
        if (all === (id !== undefined)) throw new UsageError('requeue takes one ID or --all');
        if (id !== undefined && !UUID.test(id))
          throw new UsageError('ID must be an outbox row id (a UUID)');
        // Rows older than what consumers remember of processed events (31 days at the least): one
        // that did reach the stream before it was parked (an acknowledgement lost) is handled again.
        const {
          rows: [{ old }],
        } = await client.query<{ old: number }>(
          `SELECT count(*)::int AS old FROM outbox_event
              WHERE published_at IS NULL AND parked_at IS NOT NULL
                AND created_at < now() - interval '31 days' AND ($1::uuid IS NULL OR id = $1::uuid)`,
          [id ?? null],
        );
        const count = await requeueParkedOutboxRows(client, id);
        if (id !== undefined && count === 0) throw new Error(`no parked outbox row ${id}`);
        io.out(`requeued ${count} row(s)`);
        if (old > 0)
          io.err(
            `warning: ${old} of them were enqueued more than 31 days ago, beyond what consumers ` +
              `may remember of the events they processed: one that reached the stream before it ` +
              `was parked may be handled a second time`,
          );
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    if (error instanceof UsageError) io.err(OUTBOX_USAGE);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

if (require.main === module) {
  void runOutboxCli(process.argv.slice(2)).then((code) => process.exit(code));
}
