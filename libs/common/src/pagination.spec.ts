import { ValidationError } from './errors';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  decodePageToken,
  encodePageToken,
  pageOf,
  resolvePageSize,
} from './pagination';

describe(resolvePageSize.name, () => {
  it('uses the default for 0 and clamps to the maximum', () => {
    expect(resolvePageSize(0)).toBe(DEFAULT_PAGE_SIZE);
    expect(resolvePageSize(7)).toBe(7);
    expect(resolvePageSize(MAX_PAGE_SIZE + 1)).toBe(MAX_PAGE_SIZE);
  });

  it('rejects negative sizes naming the field', () => {
    expect(() => resolvePageSize(-1)).toThrow(ValidationError);
  });
});

describe('page tokens', () => {
  it('round-trip a position for the same filter', () => {
    const token = encodePageToken({ after: '2026-11-23T00:00:00.123Z', afterId: 'x' }, 'f');
    expect(decodePageToken(token, 'f')).toEqual({
      after: '2026-11-23T00:00:00.123Z',
      afterId: 'x',
    });
    expect(decodePageToken('', 'f')).toBeUndefined();
  });

  it('rejects a token issued for another filter, and garbage', () => {
    const token = encodePageToken({ after: 'a', afterId: 'b' }, 'f');
    expect(() => decodePageToken(token, 'g')).toThrow(ValidationError);
    expect(() => decodePageToken('%%%not-base64', 'f')).toThrow(ValidationError);
  });
});

describe(pageOf.name, () => {
  const positionOf = (n: number) => ({ after: String(n), afterId: String(n) });

  it('returns a next token only when the extra row came back', () => {
    const full = pageOf([1, 2, 3, 4], 3, positionOf, 'f');
    expect(full.page).toEqual([1, 2, 3]);
    expect(decodePageToken(full.nextPageToken, 'f')).toEqual({ after: '3', afterId: '3' });
    expect(pageOf([1, 2, 3], 3, positionOf, 'f').nextPageToken).toBe('');
  });
});
