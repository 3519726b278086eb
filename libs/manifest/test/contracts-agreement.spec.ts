import * as contracts from '@cinode/contracts';
import type { StreamContract } from '@cinode/contracts';
import { loadManifests } from '../src/load-manifests';
import { WORKSPACE_ROOT } from './agreement/workspace-files';

/** Every stream declared in @cinode/contracts. */
function declaredStreams(): StreamContract[] {
  return Object.values(contracts).filter(
    (value): value is StreamContract =>
      typeof value === 'object' &&
      value !== null &&
      'subjects' in value &&
      'owner' in value &&
      'name' in value,
  );
}

/**
 * The manifests say which streams a service owns and consumes; the event contracts say who owns
 * each stream. The two must tell the same story, or a consumer would wait on a stream no service
 * publishes.
 */
describe('the manifests agree with @cinode/contracts', () => {
  const manifests = loadManifests(WORKSPACE_ROOT);
  const streams = declaredStreams();
  const byName = new Map(streams.map((s) => [s.name, s]));

  it('finds the declared streams', () => {
    expect([...byName.keys()].sort()).toEqual([
      'DLQ',
      'IDENTIFIER',
      'MARKET',
      'MONITORING',
      'NETWORK',
      'PARTICIPANT',
      'RESOURCE',
      'SECURITY',
    ]);
  });

  it('names every stream a service owns or consumes in the contracts, owned by that service', () => {
    const problems: string[] = [];
    for (const manifest of manifests) {
      for (const name of manifest.events?.owns ?? []) {
        const stream = byName.get(name);
        if (!stream) problems.push(`${manifest.name} owns ${name}, which no contract declares`);
        else if (stream.owner !== manifest.name)
          problems.push(`${manifest.name} owns ${name}, whose contract names ${stream.owner}`);
      }
      for (const name of manifest.events?.consumes ?? []) {
        if (!byName.has(name))
          problems.push(`${manifest.name} consumes ${name}, which no contract declares`);
      }
    }
    for (const stream of streams) {
      if (stream.owner === 'platform') continue;
      const owner = manifests.find((m) => m.name === stream.owner);
      if (!owner?.events?.owns.includes(stream.name))
        problems.push(
          `the contract of ${stream.name} names ${stream.owner}, whose manifest does not own it`,
        );
    }
    expect(problems).toEqual([]);
  });
});
