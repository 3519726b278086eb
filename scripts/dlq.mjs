// `npm run dlq`: lists, shows, replays and discards dead-lettered events (`npm run dlq -- --help`).
// Runs the built command of @cinode/events; builds the workspace first when it is missing.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ensureBuilt, ensureDependencies, ROOT } from './lib/bootstrap.mjs';

const cli = join(ROOT, 'dist', 'libs', 'events', 'src', 'dead-letter-cli.js');
if (!existsSync(cli)) {
  ensureDependencies();
  ensureBuilt();
}
const { runDeadLetterCli } = createRequire(import.meta.url)(cli);
process.exit(await runDeadLetterCli(process.argv.slice(2)));
