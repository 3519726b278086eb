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
 * (`date_trunc('milliseconds', now())`), since JavaScript Dates drop Postgres' microseconds. Tokens are opaque to callers
 * (base64url JSON) and bound to the filter they were issued for, so a token cannot be replayed
 * against a different query.
 */
export interface PagePosition {
  after: string;
  afterId: string;
}

interface TokenBody extends PagePosition {
  f: string;
}

export function encodePageToken(position: PagePosition, filterKey: string): string {
  const body: TokenBody = { ...position, f: filterKey };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export function decodePageToken(
  token: string,
  filterKey: string,
  field = 'page_token',
): PagePosition | undefined {
  if (token === '') return undefined;
  const invalid = () =>
    new ValidationError([{ field, description: 'is not a token issued for this query' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!isTokenBody(parsed) || parsed.f !== filterKey) throw invalid();
  return { after: parsed.after, afterId: parsed.afterId };
}

function isTokenBody(value: unknown): value is TokenBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.after === 'string' && typeof v.afterId === 'string' && typeof v.f === 'string';
}

/**
 * Cuts a keyset query's result (fetched with `limit + 1` rows) into the page and the token of the
 * next one; the extra row only tells that another page exists.
 */
export function pageOf<T>(
  rows: T[],
  limit: number,
  positionOf: (row: T) => PagePosition,
  filterKey: string,
): { page: T[]; nextPageToken: string } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextPageToken =
    rows.length > limit && last ? encodePageToken(positionOf(last), filterKey) : '';
  return { page, nextPageToken };
}
