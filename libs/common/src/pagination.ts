import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors';

/** Default and maximum page sizes of every List method, documented in the protos. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Resolves a request's page_size: 0 means the default, above the maximum is clamped. */
export function resolvePageSize(pageSize: number, field = 'page_size'): number {
  if (!Number.isInteger(pageSize) || pageSize < 0) {
    throw new ValidationError([{ field, description: 'must be a non-negative integer' }]);
  }
  if (pageSize === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(pageSize, MAX_PAGE_SIZE);
}

/**
 * A keyset position: the sort key and id of the last row of a page. The sort key must survive the
 * round trip through the token exactly: timestamps used as keys are stored at millisecond precision
 * (`date_trunc('milliseconds', now())`), since JavaScript Dates drop Postgres' microseconds.
 */
export interface PagePosition {
  after: string;
  afterId: string;
}

/** Longer tokens are refused unread (positions are short). */
const MAX_TOKEN_CHARS = 1_024;
const MAC_BYTES = 16;

/**
 * Page tokens of one service: opaque to callers (base64url JSON and a MAC), bound to the query's
 * filter and signed with the service's key. A token that was altered, forged, issued by another
 * service or for another filter is INVALID_ARGUMENT, so nothing a caller makes up reaches SQL as
 * a position. The platform gives every service one key shared by its replicas (kept in its
 * database); `PageTokens.ephemeral()` makes a key of its own for tests and tools.
 */
export class PageTokens {
  constructor(private readonly key: Uint8Array) {
    if (key.length < 32) throw new Error('a page token key needs at least 32 bytes');
  }

  static ephemeral(): PageTokens {
    return new PageTokens(randomBytes(32));
  }

  encode(position: PagePosition, filterKey: string): string {
    const body = Buffer.from(
      JSON.stringify({ a: position.after, i: position.afterId }),
      'utf8',
    ).toString('base64url');
    return `${body}.${this.mac(body, filterKey).toString('base64url')}`;
  }

  /** The position a token names, undefined for '' (the first page). */
  decode(token: string, filterKey: string, field = 'page_token'): PagePosition | undefined {
    if (token === '') return undefined;
    const invalid = () =>
      new ValidationError([{ field, description: 'is not a token issued for this query' }]);
    if (token.length > MAX_TOKEN_CHARS) throw invalid();
    const [body, mac, extra] = token.split('.');
    if (body === undefined || mac === undefined || extra !== undefined) throw invalid();
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(body, filterKey);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    const v = parsed as Record<string, unknown> | null;
    if (typeof v?.a !== 'string' || typeof v.i !== 'string') throw invalid();
    return { after: v.a, afterId: v.i };
  }

  /**
   * Cuts a keyset query's result (fetched with `limit + 1` rows) into the page and the token of the
   * next one; the extra row only tells that another page exists.
   */
  pageOf<T>(
    rows: T[],
    limit: number,
    positionOf: (row: T) => PagePosition,
    filterKey: string,
  ): { page: T[]; nextPageToken: string } {
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextPageToken =
      rows.length > limit && last ? this.encode(positionOf(last), filterKey) : '';
    return { page, nextPageToken };
  }

  private mac(body: string, filterKey: string): Buffer {
    return createHmac('sha256', this.key)
      .update(filterKey)
      .update('\n')
      .update(body)
      .digest()
      .subarray(0, MAC_BYTES);
  }
}
