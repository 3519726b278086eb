import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The unprivileged user Postgres runs as when we are root. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Whether `owner` may enter every directory from the root down to `target` (Unix permission bits;
 * root's own home is mode 0700 on Debian, so a clone under it is out of reach).
 */
export function canTraverse(owner: Owner, target: string): boolean {
  let dir = path.resolve(target);
  for (;;) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      // Not there yet: what matters is whether its existing ancestors can be entered.
      const parent = path.dirname(dir);
      if (parent === dir) return true;
      dir = parent;
      continue;
    }
    if (stat.isDirectory()) {
      const bit = stat.uid === owner.uid ? 0o100 : stat.gid === owner.gid ? 0o010 : 0o001;
      if ((stat.mode & bit) === 0) return false;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

/**
 * Where copies live that the unprivileged user must reach: /var/lib/cinode (or
 * CINODE_REACHABLE_DIR), else a directory under the system temp dir.
 */
export function reachableRoot(owner: Owner): string {
  const uid = process.getuid?.() ?? 0;
  const candidates = [
    process.env['CINODE_REACHABLE_DIR'],
    '/var/lib/cinode',
    path.join(os.tmpdir(), `cinode-reachable-${uid}`),
  ].filter((c): c is string => typeof c === 'string' && c !== '');
  for (const candidate of candidates) {
    try {
      fs.mkdirSync(candidate, { recursive: true, mode: 0o755 });
      // Ours alone: a directory someone else made (or a link planted in a shared /tmp) would let
      // them swap what root later runs or deletes there.
      const stat = fs.lstatSync(candidate);
      if (!stat.isDirectory() || stat.uid !== uid) continue;
      fs.chmodSync(candidate, 0o755);
      if (canTraverse(owner, candidate)) return candidate;
    } catch {
      // Not writable here: try the next place.
    }
  }
  throw new Error(`no directory the postgres user can reach; set CINODE_REACHABLE_DIR`);
}

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/**
 * The Postgres binaries at a path the owner can reach: in place when it can, else a copy (made
 * once, world-readable, next to nothing secret) under the reachable root.
 */
export function reachableBinDir(owner: Owner, nativeDir: string): string {
  const bin = path.join(nativeDir, 'bin');
  if (canTraverse(owner, bin)) return bin;
  const version = fs.existsSync(path.join(nativeDir, '..', 'package.json'))
    ? fs.readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')
    : nativeDir;
  const target = path.join(
    reachableRoot(owner),
    `postgres-${shortHash(`${nativeDir}\n${version}`)}`,
  );
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    const staging = `${target}.${process.pid}.tmp`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    makeReadable(staging);
    try {
      fs.renameSync(staging, target);
    } catch (error) {
      // Another process copied it first; theirs is as good as ours.
      fs.rmSync(staging, { recursive: true, force: true });
      if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) throw error;
    }
  }
  return path.join(target, 'bin');
}

function makeReadable(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      fs.chmodSync(full, 0o755);
      makeReadable(full);
    } else {
      const mode = fs.statSync(full).mode;
      fs.chmodSync(full, mode & 0o111 ? 0o755 : 0o644);
    }
  }
  fs.chmodSync(dir, 0o755);
}

/**
 * A data directory the owner can reach. In place when it can; otherwise the cluster lives under the
 * reachable root and `dataDir` becomes a symbolic link to it, so the data still appears where it
 * was asked for (and `removeDataDir` removes both).
 */
export function reachableDataDir(owner: Owner, dataDir: string): string {
  const resolved = path.resolve(dataDir);
  if (isLink(resolved)) return fs.realpathSync(resolved);
  if (fs.existsSync(resolved) || canTraverse(owner, path.dirname(resolved))) return resolved;
  const target = path.join(reachableRoot(owner), `data-${shortHash(resolved)}`);
  // No link, yet a cluster for this path: left by a clone deleted from here, or by `rm -rf .data`.
  // Whoever removed the link meant to start over, so the orphan goes too.
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(resolved), { recursive: true });
  fs.symlinkSync(target, resolved, 'dir');
  return target;
}

/** Removes a data directory, and the cluster behind it when it is a link to one. */
export function removeDataDir(dataDir: string): void {
  const resolved = path.resolve(dataDir);
  if (isLink(resolved)) {
    fs.rmSync(fs.realpathSync(resolved), { recursive: true, force: true });
    fs.rmSync(resolved, { force: true });
    return;
  }
  fs.rmSync(resolved, { recursive: true, force: true });
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
