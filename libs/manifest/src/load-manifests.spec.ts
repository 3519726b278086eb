import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { manifest } from '../test/manifest-fixtures';
import { PROVIDER_SITE_TAG, loadManifests, manifestPath } from './load-manifests';
import { ManifestError } from './manifest-validation';

describe(loadManifests.name, () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cinode-manifests-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function service(directory: string, files: Record<string, string>): void {
    mkdirSync(join(root, 'services', directory), { recursive: true });
    for (const [name, text] of Object.entries(files))
      writeFileSync(join(root, 'services', directory, name), text);
  }

  it('reads every services/*/service.json, sorted by name', () => {
    service('beta', { 'service.json': JSON.stringify(manifest('beta')) });
    service('alpha', { 'service.json': JSON.stringify(manifest('alpha')) });
    service('notes', { 'README.md': 'not a service' });
    expect(loadManifests(root).map((m) => m.name)).toEqual(['alpha', 'beta']);
  });

  it('reports an Nx project without a manifest together with the other problems', () => {
    service('alpha', { 'project.json': '{}' });
    service('beta', { 'service.json': JSON.stringify({ ...manifest('beta'), grpcPort: 1 }) });
    let error: unknown;
    try {
      loadManifests(root);
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).problems).toEqual([
      'services/alpha/service.json: missing (services/alpha is an Nx project without a manifest)',
      'services/beta/service.json: grpcPort: must be at least 1024 (no privileged ports)',
    ]);
  });

  it('leaves out a project that runs at a provider site, which has no manifest', () => {
    service('agent', {
      'project.json': JSON.stringify({ tags: ['layer:service', PROVIDER_SITE_TAG] }),
    });
    service('alpha', { 'service.json': JSON.stringify(manifest('alpha')) });
    expect(loadManifests(root).map((m) => m.name)).toEqual(['alpha']);
  });

  it('returns no manifests when there is no services directory', () => {
    expect(loadManifests(root)).toEqual([]);
  });

  it("loads this repository's manifests, each naming the JSON Schema for editors", () => {
    const workspaceRoot = join(__dirname, '..', '..', '..');
    const manifests = loadManifests(workspaceRoot);
    // The services this repository has always had, and whatever has been generated since.
    const names = manifests.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining(['identifier', 'national-node-mock', 'service-center']),
    );
    expect(names).toEqual([...names].sort());
    for (const manifest of manifests) {
      const file = join(workspaceRoot, manifestPath(manifest.name));
      expect(manifest.$schema).toBe('../../libs/manifest/service-manifest.schema.json');
      expect(existsSync(join(dirname(file), manifest.$schema ?? 'missing'))).toBe(true);
    }
  });
});
