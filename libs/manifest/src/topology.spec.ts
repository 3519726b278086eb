import { manifest, todaysNode } from '../test/manifest-fixtures';
import {
  findDependencyCycle,
  providerOf,
  resolvedDependencies,
  serverOf,
  startWaves,
} from './topology';

describe(startWaves.name, () => {
  it('starts the JWKS provider first and the rest after it', () => {
    expect(startWaves(todaysNode())).toEqual([
      ['service-center'],
      ['identifier', 'national-node-mock'],
    ]);
  });

  it('puts a service after its startAfter dependencies, not after the others', () => {
    const node = [
      manifest('gateway', {
        dependencies: [
          { service: 'store', env: 'STORE_ADDRESS', startAfter: true },
          { service: 'audit', env: 'AUDIT_ADDRESS', startAfter: false },
        ],
      }),
      manifest('store', { dependencies: [{ service: 'cache', env: 'CACHE', startAfter: true }] }),
      manifest('cache'),
      manifest('audit'),
    ];
    expect(startWaves(node)).toEqual([['audit', 'cache'], ['store'], ['gateway']]);
  });

  it('starts everything at once when nothing waits', () => {
    expect(startWaves([manifest('b'), manifest('a')])).toEqual([['a', 'b']]);
  });

  it('fails on a cycle instead of recursing forever', () => {
    const node = [
      manifest('a', { dependencies: [{ service: 'b', env: 'B', startAfter: true }] }),
      manifest('b', { dependencies: [{ service: 'a', env: 'A', startAfter: true }] }),
    ];
    expect(() => startWaves(node)).toThrow(/cycle/);
  });
});

describe(resolvedDependencies.name, () => {
  it('adds the JWKS provider to every other service, after its own dependencies', () => {
    const [center, identifier, mock] = todaysNode();
    expect(resolvedDependencies(identifier, todaysNode())).toEqual([
      {
        service: 'national-node-mock',
        env: 'NATIONAL_NODE_ADDRESS',
        startAfter: false,
        via: 'dependency',
      },
      { service: 'service-center', env: 'AUTH_JWKS_ADDRESS', startAfter: true, via: 'jwks' },
    ]);
    expect(resolvedDependencies(mock, todaysNode())).toEqual([
      { service: 'service-center', env: 'AUTH_JWKS_ADDRESS', startAfter: true, via: 'jwks' },
    ]);
    expect(resolvedDependencies(center, todaysNode())).toEqual([]);
  });
});

describe(findDependencyCycle.name, () => {
  it('finds none in the node as it is today', () => {
    expect(findDependencyCycle(todaysNode())).toBeUndefined();
  });

  it('finds a cycle of start-order edges', () => {
    const node = [
      manifest('a', { dependencies: [{ service: 'b', env: 'B', startAfter: true }] }),
      manifest('b', { dependencies: [{ service: 'c', env: 'C', startAfter: true }] }),
      manifest('c', { dependencies: [{ service: 'a', env: 'A', startAfter: true }] }),
    ];
    expect(findDependencyCycle(node)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('lets a startAfter false edge close a loop: it imposes no start order', () => {
    const node = [
      manifest('a', { dependencies: [{ service: 'b', env: 'B', startAfter: true }] }),
      manifest('b', { dependencies: [{ service: 'c', env: 'C', startAfter: true }] }),
      manifest('c', { dependencies: [{ service: 'a', env: 'A', startAfter: false }] }),
    ];
    expect(findDependencyCycle(node)).toBeUndefined();
    expect(startWaves(node)).toEqual([['c'], ['b'], ['a']]);
  });
});

describe('lookups', () => {
  it('finds the JWKS provider and the server of a gRPC service', () => {
    expect(providerOf(todaysNode(), 'jwks')?.name).toBe('service-center');
    expect(providerOf([manifest('solo')], 'jwks')).toBeUndefined();
    expect(serverOf(todaysNode(), 'cinode.identifier.v1.IdentifierService')?.name).toBe(
      'identifier',
    );
    expect(serverOf(todaysNode(), 'cinode.other.v1.OtherService')).toBeUndefined();
  });
});
