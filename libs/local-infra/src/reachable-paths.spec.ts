import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canTraverse, reachableBinDir, reachableDataDir, removeDataDir } from './reachable-paths';

/** A user that owns nothing here: only the "other" permission bits apply to it. */
const stranger = { uid: 54321, gid: 54321 };

describe('reachable paths for the unprivileged Postgres user', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-'));
    fs.chmodSync(root, 0o755);
    process.env.CINODE_REACHABLE_DIR = path.join(root, 'reachable');
  });
  afterEach(() => {
    delete process.env.CINODE_REACHABLE_DIR;
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('tells a directory behind a mode-0700 one (a clone under /root) from an open one', () => {
    const closed = path.join(root, 'home');
    fs.mkdirSync(path.join(closed, 'clone'), { recursive: true });
    fs.chmodSync(closed, 0o700);
    expect(canTraverse(stranger, path.join(closed, 'clone'))).toBe(false);
    expect(canTraverse(stranger, path.join(closed, 'clone', 'not-yet'))).toBe(false);
    fs.chmodSync(closed, 0o711);
    expect(canTraverse(stranger, path.join(closed, 'clone', 'not-yet'))).toBe(true);
  });

  it('copies binaries out of reach once, and keeps the data where asked behind a link', () => {
    const closed = path.join(root, 'home');
    const native = path.join(closed, 'clone', 'native');
    fs.mkdirSync(path.join(native, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(native, 'bin', 'postgres'), '#!/bin/sh\n', { mode: 0o700 });
    fs.chmodSync(closed, 0o700);

    const bin = reachableBinDir(stranger, native);
    expect(bin.startsWith(path.join(root, 'reachable'))).toBe(true);
    expect(canTraverse(stranger, bin)).toBe(true);
    expect(fs.statSync(path.join(bin, 'postgres')).mode & 0o001).toBe(0o001);
    expect(reachableBinDir(stranger, native)).toBe(bin);

    const asked = path.join(closed, 'clone', '.data', 'postgres');
    const real = reachableDataDir(stranger, asked);
    expect(real.startsWith(path.join(root, 'reachable'))).toBe(true);
    fs.mkdirSync(real);
    fs.writeFileSync(path.join(real, 'PG_VERSION'), '17');
    expect(fs.readFileSync(path.join(asked, 'PG_VERSION'), 'utf8')).toBe('17');
    expect(reachableDataDir(stranger, asked)).toBe(real);
    removeDataDir(asked);
    expect(fs.existsSync(real)).toBe(false);
    expect(fs.existsSync(asked)).toBe(false);
  });

  it('starts over when the link is gone (rm -rf .data, or a new clone in the same place)', () => {
    const closed = path.join(root, 'home');
    const asked = path.join(closed, 'clone', '.data', 'postgres');
    fs.mkdirSync(path.dirname(asked), { recursive: true });
    fs.chmodSync(closed, 0o700);
    const real = reachableDataDir(stranger, asked);
    fs.mkdirSync(real);
    fs.writeFileSync(path.join(real, 'PG_VERSION'), '17');
    fs.rmSync(path.join(closed, 'clone', '.data'), { recursive: true });

    expect(reachableDataDir(stranger, asked)).toBe(real);
    expect(fs.existsSync(real)).toBe(false);
  });

  it('leaves reachable paths in place', () => {
    const open = path.join(root, 'open', 'postgres');
    expect(reachableDataDir(stranger, open)).toBe(open);
  });
});
