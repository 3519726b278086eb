import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from 'nats';
import {
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  type DeadLetter,
} from './dead-letters';

/** Where `npm start` runs NATS; NATS_URL points anywhere else (a cluster, a port-forward). */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4229';

export const DEAD_LETTER_USAGE = `Dead-lettered events: list, show, replay, discard.

  npm run dlq -- list [--consumer NAME] [--limit N] [--json]
  npm run dlq -- show SEQ
  npm run dlq -- replay SEQ [--data FILE]     put it back where it came from (FILE: a corrected
                                              envelope with the same event id and type)
  npm run dlq -- replay --consumer NAME --all replay every failure parked by one consumer
  npm run dlq -- discard SEQ                  drop it for good

SEQ is the message's sequence in the dead-letter stream (the first column of list). A replayed
message reaches its consumer again; consumers that handled it before recognise its event id and
skip it. Messages of kind "verdict" were handled (a consumer parked a copy of an outcome for a
person, e.g. a refused filing): the consumer would skip a replay, so replay refuses them (and
--all passes over them); deal with the cause in the service, then discard them.
NATS_URL selects the server (default ${DEFAULT_NATS_URL}, the one npm start runs).`;

interface Output {
  out(line: string): void;
  err(line: string): void;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function sequence(value: string | undefined): number {
  const seq = Number(value);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new UsageError('SEQ must be a positive integer');
  return seq;
}

class UsageError extends Error {}

function row(letter: DeadLetter): string {
  return [
    String(letter.seq).padStart(6),
    letter.consumer.padEnd(28),
    (letter.eventType ?? letter.subject).padEnd(44),
    String(letter.deliveries).padStart(3),
    letter.kind.padEnd(7),
    letter.parkedAt,
    letter.error,
  ].join('  ');
}

/**
 * The `npm run dlq` command (and `node dist/libs/events/src/dead-letter-cli.js` in an image).
 * Returns the exit code: 0 done, 1 failed, 2 bad usage.
 */
export async function runDeadLetterCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Output = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === '--help' || command === 'help') {
    io.out(DEAD_LETTER_USAGE);
    return command ? 0 : 2;
  }
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: (env.NATS_URL || DEFAULT_NATS_URL).split(','), name: 'dlq-cli' });
    const jsm = await nc.jetstreamManager();
    switch (command) {
      case 'list': {
        const limit = flag(rest, '--limit');
        const letters = await listDeadLetters(jsm, {
          consumer: flag(rest, '--consumer'),
          limit: limit === undefined ? 100 : sequence(limit),
        });
        if (rest.includes('--json')) {
          io.out(
            JSON.stringify(
              letters.map(({ data, ...letter }) => ({
                ...letter,
                body: Buffer.from(data).toString('utf8'),
              })),
              null,
              2,
            ),
          );
        } else {
          io.out(
            `${'seq'.padStart(6)}  ${'consumer'.padEnd(28)}  ${'event'.padEnd(44)}  dlv  kind     parked at  error`,
          );
          for (const letter of letters) io.out(row(letter));
          io.out(`${letters.length} message(s)`);
        }
        return 0;
      }
      case 'show': {
        const seq = sequence(rest[0]);
        const letter = await getDeadLetter(jsm, seq);
        if (!letter) throw new Error(`no dead-lettered message ${seq}`);
        const { data, ...fields } = letter;
        io.out(JSON.stringify({ ...fields, body: Buffer.from(data).toString('utf8') }, null, 2));
        return 0;
      }
      case 'replay': {
        if (rest.includes('--all')) {
          const consumer = flag(rest, '--consumer');
          if (!consumer) throw new UsageError('replay --all needs --consumer NAME');
          const letters = await listDeadLetters(jsm, { consumer, limit: Number.MAX_SAFE_INTEGER });
          const failures = letters.filter((letter) => letter.kind === 'failure');
          for (const letter of failures) await replayDeadLetter(nc, letter.seq);
          const verdicts = letters.length - failures.length;
          io.out(
            `replayed ${failures.length} message(s) of ${consumer}` +
              (verdicts > 0
                ? `; left ${verdicts} verdict(s) in place (discard them when dealt with)`
                : ''),
          );
          return 0;
        }
        const seq = sequence(rest[0]);
        const file = flag(rest, '--data');
        const letter = await replayDeadLetter(nc, seq, {
          data: file === undefined ? undefined : readFileSync(file),
        });
        io.out(`replayed ${seq} onto ${letter.subject}${file ? ` with the body of ${file}` : ''}`);
        return 0;
      }
      case 'discard': {
        const seq = sequence(rest[0]);
        if (!(await discardDeadLetter(jsm, seq)))
          throw new Error(`no dead-lettered message ${seq}`);
        io.out(`discarded ${seq}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    if (error instanceof UsageError) io.err(DEAD_LETTER_USAGE);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await nc?.close();
  }
}

if (require.main === module) {
  void runDeadLetterCli(process.argv.slice(2)).then((code) => process.exit(code));
}
