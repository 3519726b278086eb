// `npm run bench [-- <name>...]`: runs every bench/src/*.bench.ts (or those whose file name contains
// one of the arguments) in turn, each in a fresh node process so one bench's heap and handles never
// colour the next, straight from TypeScript: libs/database/scripts/register-ts.mjs compiles with swc
// the way Jest does and resolves the @cinode/* aliases. Exits non-zero if any bench misses a target,
// fails, or overruns its time limit.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const PER_BENCH_LIMIT_MS = 180_000;

if (process.argv[2] === '--child') {
  // The register hook is a CommonJS extension hook, so the bench is loaded with require().
  await import('../libs/database/scripts/register-ts.mjs');
  createRequire(import.meta.url)(path.resolve(process.argv[3]));
} else {
  const filters = process.argv.slice(2);
  const files = readdirSync(path.join(here, 'src'))
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
    .sort();
  if (files.length === 0) {
    console.error(`no bench matches ${filters.join(', ')}`);
    process.exit(1);
  }
  // Benches that run services start the built ones, as production does: build first (Nx caches).
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: path.join(here, '..'),
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.error('build failed');
    process.exit(1);
  }
  const results = [];
  for (const file of files) {
    console.log(`\n==> ${file}`);
    const started = performance.now();
    // --expose-gc lets the harness collect garbage before reading RSS.
    const run = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--enable-source-maps',
        fileURLToPath(import.meta.url),
        '--child',
        path.join(here, 'src', file),
      ],
      { stdio: 'inherit', timeout: PER_BENCH_LIMIT_MS, killSignal: 'SIGKILL' },
    );
    if (run.error) console.error(`${file}: ${run.error.message}`);
    results.push({ file, ok: run.status === 0, seconds: (performance.now() - started) / 1000 });
  }
  console.log('');
  for (const { file, ok, seconds } of results)
    console.log(`${ok ? 'PASS' : 'FAIL'}  ${file} (${seconds.toFixed(1)} s)`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
