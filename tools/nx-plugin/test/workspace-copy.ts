import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A throwaway copy of the workspace as a clean clone would have it: the files git knows (tracked,
 * and new ones not ignored, so uncommitted work is tested too), without dist/, .nx/, .data/ or
 * .cache/; node_modules is linked rather than copied (the generator adds no dependency).
 */
export function copyWorkspace(root: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'cinode-generator-'));
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  for (const file of new Set(listed.split('\0'))) {
    // A tracked file deleted in the working tree is listed but absent.
    if (file === '' || !existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(root, file), join(copy, file));
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

export function removeCopy(copy: string | undefined): void {
  if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
}
