// `npm test`: builds the workspace (end-to-end tests run the built services; Nx's cache makes an
// unchanged tree cheap), then every Jest suite (unit, integration, end-to-end), then the Helm chart
// test when the chart has one. Extra arguments go to Jest: `npm test -- libs/testing -t database`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureDependencies, ensureNatsServer, ROOT } from './lib/bootstrap.mjs';

ensureDependencies();
if (!process.env.TEST_NATS_URL) ensureNatsServer();

const results = [];
function step(name, command, args) {
  console.log(`\n==> ${name}: ${[command, ...args].join(' ')}`);
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  const ok = result.status === 0;
  results.push({ name, ok, seconds: (performance.now() - started) / 1000 });
  if (result.error) console.error(result.error.message);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
step('build', npm, ['run', 'build', '--silent']);
step('jest', process.platform === 'win32' ? 'npx.cmd' : 'npx', ['jest', ...process.argv.slice(2)]);
const chartTest = join(ROOT, 'charts', 'cinode', 'test', 'chart-test.mjs');
if (existsSync(chartTest)) step('chart test', process.execPath, [chartTest]);

console.log('');
for (const { name, ok, seconds } of results)
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name} (${seconds.toFixed(1)} s)`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
