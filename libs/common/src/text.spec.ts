import { hasDisruptiveCharacter, hasLoneSurrogate, sanitizeText } from './text';

describe(sanitizeText.name, () => {
  it('replaces NUL, other control characters and lone surrogates, and counts code points', () => {
    expect(sanitizeText('a\u0000b\nc\u007f', 100)).toBe('a\uFFFDb\uFFFDc\uFFFD');
    expect(sanitizeText('x\uD800y', 100)).toBe('x\uFFFDy');
    expect(sanitizeText('𠀀𠀁𠀂', 2)).toBe('𠀀𠀁');
    expect(sanitizeText('plain', 100)).toBe('plain');
  });

  it('replaces what would change how a logged line reads: C1 controls, separators, bidi overrides', () => {
    expect(sanitizeText('a\u0085b\u2028c\u2029d', 100)).toBe('a\uFFFDb\uFFFDc\uFFFDd');
    expect(sanitizeText('user\u202Egnp.exe\u2066x\u2069', 100)).toBe(
      'user\uFFFDgnp.exe\uFFFDx\uFFFD',
    );
    expect(sanitizeText('算力互联 Ü é', 100)).toBe('算力互联 Ü é');
  });

  it('tells well-formed strings from ones with a lone surrogate', () => {
    expect(hasLoneSurrogate('𠀀 ok')).toBe(false);
    expect(hasLoneSurrogate('bad \uDC00')).toBe(true);
    expect(hasLoneSurrogate('bad \uD800')).toBe(true);
  });
});

describe(hasDisruptiveCharacter.name, () => {
  it('finds exactly what sanitizeText replaces but lone surrogates', () => {
    for (const bad of ['a\u0000', 'a\nb', 'a\u0085', 'a\u2029', 'a\u202Ab', 'a\u2069'])
      expect(hasDisruptiveCharacter(bad)).toBe(true);
    expect(hasDisruptiveCharacter('算力互联 Ü é 𠀀')).toBe(false);
  });
});
