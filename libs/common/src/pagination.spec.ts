import { ValidationError } from './errors';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageTokens, resolvePageSize } from './pagination';

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

describe(PageTokens.name, () => {
  const tokens = PageTokens.ephemeral();

  it('round-trip a position for the same filter', () => {
    const token = tokens.encode({ after: '2026-11-23T00:00:00.123Z', afterId: 'x' }, 'f');
    expect(tokens.decode(token, 'f')).toEqual({ after: '2026-11-23T00:00:00.123Z', afterId: 'x' });
    expect(tokens.decode('', 'f')).toBeUndefined();
  });

  it('refuses a token for another filter, from another key, altered, forged, or garbage', () => {
    const token = tokens.encode({ after: 'a', afterId: 'b' }, 'f');
    const [body, mac] = token.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ a: "x' OR 1=1", i: 'b' })).toString(
      'base64url',
    );
    for (const bad of [
      tokens.encode({ after: 'a', afterId: 'b' }, 'g'),
      PageTokens.ephemeral().encode({ after: 'a', afterId: 'b' }, 'f'),
      `${forgedBody}.${mac}`,
      `${body}.${mac}x`,
      `${body}.${mac}.more`,
      body,
      '%%%not-base64',
      'x'.repeat(5_000),
    ]) {
      expect(() => tokens.decode(bad, 'f')).toThrow(ValidationError);
    }
    let error: ValidationError | undefined;
    try {
      tokens.decode(`${forgedBody}.${mac}`, 'f', 'page_token');
    } catch (caught) {
      error = caught as ValidationError;
    }
    expect(error?.fieldViolations).toEqual([
      { field: 'page_token', description: 'is not a token issued for this query' },
    ]);
  });

  it('returns a next token only when the extra row came back', () => {
    const positionOf = (n: number) => ({ after: String(n), afterId: String(n) });
    const full = tokens.pageOf([1, 2, 3, 4], 3, positionOf, 'f');
    expect(full.page).toEqual([1, 2, 3]);
    expect(tokens.decode(full.nextPageToken, 'f')).toEqual({ after: '3', afterId: '3' });
    expect(tokens.pageOf([1, 2, 3], 3, positionOf, 'f').nextPageToken).toBe('');
  });

  it('needs a key of at least 32 bytes', () => {
    expect(() => new PageTokens(new Uint8Array(16))).toThrow(/32 bytes/);
  });
});
