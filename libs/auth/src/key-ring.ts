import { Logger } from '@nestjs/common';
import { importJWK, type JWK, type KeyLike } from 'jose';

/**
 * What a key may sign (docs/adr/0001): participant keys (the service center's) sign participant
 * tokens; service keys sign only `service`-role tokens. A JWK is a service key when it carries the
 * member `"cinode_scope": "service"`.
 */
export type KeyScope = 'participant' | 'service';

export const SERVICE_SCOPE_MEMBER = 'cinode_scope';

export interface ResolvedKey {
  kid: string;
  scope: KeyScope;
  key: KeyLike | Uint8Array;
}

/** A source of keys fetched at run time, e.g. the service center's GetJwks. */
export interface RemoteKeySource {
  fetch(): Promise<{ keys: JWK[]; cacheForMs: number }>;
}

const MIN_REFRESH_INTERVAL_MS = 5_000;
/** After a failed fetch (e.g. the service center still starting), an unknown kid retries sooner. */
const RETRY_AFTER_FAILURE_MS = 250;

function scopeOf(jwk: JWK): KeyScope {
  return (jwk as unknown as Record<string, unknown>)[SERVICE_SCOPE_MEMBER] === 'service'
    ? 'service'
    : 'participant';
}

/**
 * The keys a service verifies tokens with: static ones from configuration plus, optionally, a remote
 * JWKS refreshed when its cache time passes and (at most every few seconds) when a token names a
 * key id not seen yet — so a signing-key rotation needs no restart anywhere.
 */
export class KeyRing {
  private readonly logger = new Logger(KeyRing.name);
  private readonly imported = new Map<string, Promise<ResolvedKey>>();
  private readonly staticKeys = new Map<string, JWK>();
  private remoteKeys = new Map<string, JWK>();
  private remoteFetchedAt = 0;
  private remoteFreshUntil = 0;
  private lastFetchFailed = false;
  private refreshing: Promise<void> | undefined;

  constructor(
    keys: JWK[],
    private readonly remote?: RemoteKeySource,
    private readonly now: () => number = Date.now,
  ) {
    for (const key of keys) {
      if (!key.kid) throw new Error('every verification key needs a kid');
      this.staticKeys.set(key.kid, key);
    }
  }

  async resolve(kid: string | undefined): Promise<ResolvedKey | undefined> {
    if (!kid) return undefined;
    let jwk = this.staticKeys.get(kid) ?? this.remoteKeys.get(kid);
    const unknownKidInterval = this.lastFetchFailed
      ? RETRY_AFTER_FAILURE_MS
      : MIN_REFRESH_INTERVAL_MS;
    if (
      this.remote &&
      (this.now() >= this.remoteFreshUntil ||
        (!jwk && this.now() - this.remoteFetchedAt >= unknownKidInterval))
    ) {
      await this.refresh();
      jwk = this.staticKeys.get(kid) ?? this.remoteKeys.get(kid);
    }
    if (!jwk) return undefined;
    // A key id is imported once; a remote key that changes under the same kid is not honoured.
    let entry = this.imported.get(kid);
    if (!entry) {
      const source = jwk;
      entry = importJWK(source, source.alg ?? 'EdDSA').then((key) => ({
        kid,
        scope: scopeOf(source),
        key,
      }));
      this.imported.set(kid, entry);
    }
    return entry;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const { keys, cacheForMs } = await this.remote!.fetch();
        this.remoteKeys = new Map(
          keys
            .filter((k) => k.kid)
            .map((k) => [k.kid!, { ...k, [SERVICE_SCOPE_MEMBER]: undefined }]),
        );
        this.remoteFreshUntil = this.now() + cacheForMs;
        this.lastFetchFailed = false;
      } catch (error) {
        // Keep verifying with the keys already known; try again after the minimum interval.
        this.logger.warn(
          `could not refresh the remote JWKS (${error instanceof Error ? error.message : String(error)}); keeping the keys already known`,
        );
        this.remoteFreshUntil = this.now() + MIN_REFRESH_INTERVAL_MS;
        this.lastFetchFailed = true;
      } finally {
        this.remoteFetchedAt = this.now();
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
