import { Logger } from '@nestjs/common';
import { ROOT_CONTEXT, context as otelContext } from '@opentelemetry/api';
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

export interface KeyRingOptions {
  /** Keys fetched at run time besides the static ones. */
  remote?: RemoteKeySource;
  /**
   * How long remote keys stay trusted after the last successful fetch (AUTH_JWKS_MAX_STALE_SECONDS):
   * a verifier cut off from the service center stops honouring keys it can no longer check.
   */
  maxStaleMs?: number;
  now?: () => number;
}

export const DEFAULT_MAX_STALE_MS = 600_000;
/** An unknown kid asks the remote again at most this often... */
const UNKNOWN_KID_INTERVAL_MS = 5_000;
/** ...or this often after a failed fetch (e.g. the service center still starting). */
const UNKNOWN_KID_INTERVAL_AFTER_FAILURE_MS = 250;
/** Retries after a failed fetch start here and double up to the maximum. */
const RETRY_INITIAL_MS = 1_000;
const RETRY_MAX_MS = 30_000;

function scopeOf(jwk: JWK): KeyScope {
  return (jwk as unknown as Record<string, unknown>)[SERVICE_SCOPE_MEMBER] === 'service'
    ? 'service'
    : 'participant';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The keys a service verifies tokens with: static ones from configuration plus, optionally, a remote
 * JWKS. A verification never waits for the remote: it is answered from the keys known, while a
 * refresh — one at a time — runs in the background: on a timer (every cache period once started),
 * when the cache period has passed, and (rate-limited) when a token names a key id not seen yet.
 * Remote keys expire `maxStaleMs` after the last successful fetch. The service center publishes a
 * key well before it signs with it, so a running ring knows every signing key in time.
 */
export class KeyRing {
  private readonly logger = new Logger(KeyRing.name);
  private readonly imported = new Map<string, Promise<ResolvedKey>>();
  private readonly staticKeys = new Map<string, JWK>();
  private readonly remote: RemoteKeySource | undefined;
  private readonly maxStaleMs: number;
  private readonly now: () => number;
  private remoteKeys = new Map<string, JWK>();
  private lastSuccessAt: number | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private freshUntil = Number.NEGATIVE_INFINITY;
  private failures = 0;
  /** The refresh period of the last successful fetch; retries after a failure never wait longer. */
  private refreshEveryMs = RETRY_MAX_MS;
  private expiredLogged = false;
  /** Imported keys by kid, once their import has finished. */
  private readonly importedKeys = new Map<string, ResolvedKey>();
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(keys: JWK[], options: KeyRingOptions = {}) {
    for (const key of keys) {
      if (!key.kid) throw new Error('every verification key needs a kid');
      this.staticKeys.set(key.kid, key);
    }
    this.remote = options.remote;
    this.maxStaleMs = options.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Fetches the remote keys once (start-up waits for that first answer, or its failure), then keeps
   * them fresh on a timer until `stop()`.
   */
  async start(): Promise<void> {
    if (!this.remote || this.running) return;
    this.running = true;
    await this.refresh();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The key a token names, from what is known now; may start a background refresh. */
  async resolve(kid: string | undefined): Promise<ResolvedKey | undefined> {
    const jwk = this.known(kid);
    if (!kid || !jwk) return undefined;
    // A key id is imported once; a remote key that changes under the same kid is not honoured.
    let entry = this.imported.get(kid);
    if (!entry) {
      entry = importJWK(jwk, jwk.alg ?? 'EdDSA').then((key) => {
        const resolved = { kid, scope: scopeOf(jwk), key };
        this.importedKeys.set(kid, resolved);
        return resolved;
      });
      this.imported.set(kid, entry);
    }
    return entry;
  }

  /**
   * Like resolve, without waiting: the key if it is known now and was imported before (by an
   * earlier resolve), else undefined.
   */
  resolveNow(kid: string): ResolvedKey | undefined {
    return this.known(kid) ? this.importedKeys.get(kid) : undefined;
  }

  /** The JWK a kid names among the keys trusted now; may start a background refresh. */
  private known(kid: string | undefined): JWK | undefined {
    if (!kid) return undefined;
    const jwk = this.staticKeys.get(kid) ?? this.liveRemoteKeys().get(kid);
    if (this.remote) {
      const now = this.now();
      const unknownKidInterval =
        this.failures > 0 ? UNKNOWN_KID_INTERVAL_AFTER_FAILURE_MS : UNKNOWN_KID_INTERVAL_MS;
      // Started outside the caller's context: the refresh and the timers it schedules belong to
      // no call.
      if (now >= this.freshUntil || (!jwk && now - this.lastAttemptAt >= unknownKidInterval))
        void otelContext.with(ROOT_CONTEXT, () => this.refresh());
    }
    return jwk;
  }

  /** Fetches the remote keys unless a fetch is under way already; never rejects. */
  refresh(): Promise<void> {
    if (!this.remote) return Promise.resolve();
    const remote = this.remote;
    this.refreshing ??= (async () => {
      this.lastAttemptAt = this.now();
      let nextInMs: number;
      try {
        const { keys, cacheForMs } = await remote.fetch();
        this.remoteKeys = new Map(
          keys
            .filter((k) => k.kid)
            // A remote key is never a service key, whatever it claims.
            .map((k) => [k.kid!, { ...k, [SERVICE_SCOPE_MEMBER]: undefined }]),
        );
        this.lastSuccessAt = this.now();
        this.failures = 0;
        this.expiredLogged = false;
        // Refreshed often enough that keys never go stale while the remote answers.
        nextInMs = Math.max(1, Math.min(cacheForMs, this.maxStaleMs / 3));
        this.refreshEveryMs = nextInMs;
      } catch (error) {
        this.failures += 1;
        // Never slower than the remote's own cache period: the service center lets a new key sign
        // two periods after publishing it, so a ring that was failing in between still fetches it.
        nextInMs = Math.min(
          RETRY_INITIAL_MS * 2 ** (this.failures - 1),
          RETRY_MAX_MS,
          this.refreshEveryMs,
        );
        this.logger.warn(
          `could not refresh the remote JWKS (${messageOf(error)}); keeping the keys already known, retrying in ${nextInMs} ms`,
        );
      }
      this.freshUntil = this.now() + nextInMs;
      this.schedule(nextInMs);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Resolves once no refresh is under way (the one running, if any, has ended). */
  async idle(): Promise<void> {
    await this.refreshing;
  }

  /** Remote keys, unless no fetch has succeeded for longer than `maxStaleMs`. */
  private liveRemoteKeys(): Map<string, JWK> {
    if (this.lastSuccessAt === undefined || this.remoteKeys.size === 0) return this.remoteKeys;
    if (this.now() - this.lastSuccessAt <= this.maxStaleMs) return this.remoteKeys;
    if (!this.expiredLogged) {
      this.expiredLogged = true;
      this.logger.error(
        `the remote JWKS could not be refreshed for ${Math.round(this.maxStaleMs / 1000)} s: its keys are no longer trusted`,
      );
    }
    return new Map();
  }

  private schedule(inMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), inMs);
    this.timer.unref();
  }
}
