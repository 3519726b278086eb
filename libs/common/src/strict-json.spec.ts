import { parseStrictJson } from './strict-json';

describe(parseStrictJson.name, () => {
  it('reads what JSON.parse reads when every name is unique and every string is clean text', () => {
    const text = JSON.stringify({
      a: 1,
      b: [{ c: 'x\\"y', d: null }, 'é 算力 𠀀', -0.5, true],
      'e f': { '': 'empty name', g: '\t\n\r tab and newlines' },
    });
    expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
    expect(parseStrictJson('"top"')).toEqual({ ok: true, value: 'top' });
    expect(parseStrictJson(' [ ] ')).toEqual({ ok: true, value: [] });
  });

  it('refuses text that is not JSON', () => {
    const result = parseStrictJson('{"a": 1,}');
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ path: '$', reason: expect.stringMatching(/^is not JSON/) });
  });

  it('names a member given twice, at any depth, also when the two spell it differently', () => {
    expect(parseStrictJson('{"a": 1, "a": 2}')).toEqual({
      ok: false,
      path: '$.a',
      reason: 'is a member name given twice',
    });
    expect(parseStrictJson('{"x": [{"k": 1}, {"k": 1, "b": {"z": 0, "\\u007a": 1}}]}')).toEqual({
      ok: false,
      path: '$.x[1].b.z',
      reason: 'is a member name given twice',
    });
    // The same name in sibling objects is fine; a name may equal a value.
    expect(parseStrictJson('[{"k": "k"}, {"k": "k"}]').ok).toBe(true);
  });

  it('refuses NUL and other control characters, escaped or not, in names and values', () => {
    expect(parseStrictJson('{"a": "x\\u0000y"}')).toEqual({
      ok: false,
      path: '$.a',
      reason: 'holds a control character',
    });
    expect(parseStrictJson('{"list": ["ok", "bell\\u0007"]}')).toMatchObject({
      ok: false,
      path: '$.list[1]',
    });
    expect(parseStrictJson('{"n\\u0001": 1}')).toMatchObject({
      ok: false,
      path: '$["n\uFFFD"]',
      reason: 'holds a control character',
    });
    expect(parseStrictJson('{"del": "\\u007f"}')).toMatchObject({ ok: false, path: '$.del' });
  });

  it('refuses a lone surrogate', () => {
    expect(parseStrictJson('{"a": ["\\ud800x"]}')).toEqual({
      ok: false,
      path: '$.a[0]',
      reason: 'holds a lone surrogate (not Unicode)',
    });
    expect(parseStrictJson('"\\ud83d\\ude00"')).toEqual({ ok: true, value: '😀' });
  });

  it('keeps its place past escaped quotes and backslashes and structural characters in strings', () => {
    const text =
      '{"a": "\\\\", "b": "{[,\\"", "c": {"d": "]}"}, "e": [1, 2, {"a": 1}], "f": "\\\\\\""}';
    expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
    expect(parseStrictJson('{"a": "\\\\", "b": [1, 2, "x"], "b": 1}')).toMatchObject({
      ok: false,
      path: '$.b',
    });
  });

  it('refuses nesting deeper than 64 levels, and shows a hostile name short and harmless', () => {
    expect(parseStrictJson(`${'['.repeat(64)}${']'.repeat(64)}`).ok).toBe(true);
    expect(parseStrictJson(`${'['.repeat(65)}${']'.repeat(65)}`)).toMatchObject({
      ok: false,
      reason: 'nests deeper than 64 levels',
    });
    const long = `x\u202e${'y'.repeat(100_000)}`;
    const result = parseStrictJson(`{"${long}": 1, "${long}": 2}`);
    expect(result).toMatchObject({ ok: false, reason: 'is a member name given twice' });
    const path = (result as { path: string }).path;
    expect(path.length).toBeLessThan(80);
    expect(path).not.toContain('\u202e');
    expect(path).toMatch(/^\$\["x\uFFFDy+…"\]$/);
  });
});
