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

describe(`${KeyRing.name} after failed fetches`, () => {
  it('retries no slower than the remote cache period, so a key published two periods ahead is fetched in time', async () => {
    const key = await generateSigningKey('p-1');
    let fetches = 0;
    let failing = false;
    const remote: RemoteKeySource = {
      fetch: () => {
        fetches += 1;
        return failing
          ? Promise.reject(new Error('service center unreachable'))
          : Promise.resolve({ keys: [key.publicJwk], cacheForMs: 300 });
      },
    };
    const ring = new KeyRing([], { remote });
    await ring.start();
    try {
      failing = true;
      // Without the cap, the retries after failures 2, 3, ... would wait 2 s, 4 s, ... up to 30 s.
      const started = fetches;
      await eventually(
        'six fetches within about two seconds',
        () => Promise.resolve(fetches - started >= 6 ? true : undefined),
        3_000,
      );
    } finally {
      ring.stop();
    }
  });
});
