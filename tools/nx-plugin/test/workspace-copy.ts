import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Build output, caches and local data: never part of a clean clone, whatever .gitignore says. */
const SKIPPED = /^(node_modules|dist|\.nx|\.data|\.cache)(\/|$)/;

/**
 * A throwaway copy of the workspace as a clean clone would have it: the files git knows (tracked,
 * and new ones not ignored, so uncommitted work is tested too), without dist/, .nx/, .data/ or
 * .cache/; node_modules is linked rather than copied (the generator adds no dependency).
 */
export function copyWorkspace(root: string): string {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  const copy = mkdtempSync(join(tmpdir(), 'cinode-generator-'));
  try {
    for (const file of new Set(listed.split('\0'))) {
      // A tracked file deleted in the working tree is listed but absent.
      if (file === '' || !existsSync(join(root, file))) continue;
      // .gitignore's `node_modules/` does not match a node_modules symlink (a linked worktree's).
      if (SKIPPED.test(file)) continue;
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(root, file), join(copy, file));
    }
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  } catch (error) {
    removeCopy(copy);
    throw error;
  }
  return copy;
}

export function removeCopy(copy: string | undefined): void {
  if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
}
