import { KeyRing, generateSigningKey, type RemoteKeySource } from '@cinode/auth';
import { eventually } from '@cinode/testing';
import type { JWK } from 'jose';

/** A remote JWKS answering at once with a very short cache time, counting fetches. */
class CountingRemote implements RemoteKeySource {
  fetches = 0;

  constructor(private readonly keys: JWK[]) {}

  fetch(): Promise<{ keys: JWK[]; cacheForMs: number }> {
    this.fetches += 1;
    return Promise.resolve({ keys: this.keys, cacheForMs: 10 });
  }
}

describe(`${KeyRing.name} on its timer`, () => {
  it('fetches once at start and then keeps its keys fresh on its own, with no call asking', async () => {
    const key = await generateSigningKey('p-1');
    const remote = new CountingRemote([key.publicJwk]);
    const ring = new KeyRing([], { remote });
    await ring.start();
    try {
      expect(remote.fetches).toBe(1);
      expect((await ring.resolve('p-1'))?.kid).toBe('p-1');
      await eventually('three refreshes on the timer', () =>
        Promise.resolve(remote.fetches >= 4 ? true : undefined),
      );
    } finally {
      ring.stop();
    }
  });
});
