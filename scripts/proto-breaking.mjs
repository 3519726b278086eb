#!/usr/bin/env node
// buf breaking at FILE level against the main branch: a change to proto/ that would break
// generated code or wire compatibility for existing clients fails the check. On main itself
// (where main is what is being checked) it compares against the previous commit, so the change
// a commit brings is still checked. With no git history to compare to, it says so and passes.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buf = join(root, 'node_modules/.bin/buf');

function git(...args) {
  const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
const hasMain = git('rev-parse', '--verify', '--quiet', 'refs/heads/main') !== undefined;
let against;
if (hasMain && branch !== 'main') {
  against = '.git#branch=main';
} else if (git('rev-parse', '--verify', '--quiet', 'HEAD~1') !== undefined) {
  against = '.git#ref=HEAD~1';
}
if (!against) {
  console.log('proto:breaking: no earlier revision to compare against; skipped');
  process.exit(0);
}
// A revision from before proto/ existed has no module to compare with.
if (
  git('cat-file', '-e', `${against.endsWith('HEAD~1') ? 'HEAD~1' : 'main'}:buf.yaml`) === undefined
) {
  console.log(`proto:breaking: ${against} has no buf.yaml yet; skipped`);
  process.exit(0);
}
try {
  execFileSync(buf, ['breaking', '--against', against], { cwd: root, stdio: 'inherit' });
  console.log(`proto:breaking: no breaking change against ${against}`);
} catch {
  console.error(`proto:breaking: breaking changes against ${against} (see above)`);
  process.exit(1);
}
