import {
  CHECK_ALPHABET,
  MAX_SERIAL,
  OBJECT_TYPE_CODES,
  UNUSABLE_CHECK_VALUE,
  formatIdentifier,
  isUsableSerial,
  mod37CheckValue,
  parseIdentifier,
  type ObjectTypeCode,
} from './identifier-format';

/** mulberry32: a tiny seeded PRNG, so a failure reproduces from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Every character an identifier can be typed with (after upper-casing). */
const TYPED_ALPHABET = `0123456789${LETTERS}.`;

function randomIdentifier(random: () => number): string {
  const pick = (chars: string) => chars[Math.floor(random() * chars.length)];
  const prefixLength = 2 + Math.floor(random() * 7);
  let national = '';
  for (let i = 0; i < prefixLength; i++) national += pick(LETTERS);
  const nodeCode = pick('RI') + String(Math.floor(random() * 10_000)).padStart(4, '0');
  const type = OBJECT_TYPE_CODES[Math.floor(random() * OBJECT_TYPE_CODES.length)];
  // Small serials are the common case in practice, so draw from both ends of the range.
  const serial =
    random() < 0.5 ? 1 + Math.floor(random() * 1000) : 1 + Math.floor(random() * MAX_SERIAL);
  const prefix = `${national}.${nodeCode}`;
  return isUsableSerial(prefix, type, serial)
    ? formatIdentifier(prefix, type, serial)
    : randomIdentifier(random);
}

describe('identifier format', () => {
  it('formats the documented example shape and parses it back in any letter case', () => {
    const id = formatIdentifier('CN.R0001', 'RP', 42);
    expect(id).toMatch(/^CN\.R0001\.RP\.00000042[0-9A-Z]$/);
    const parsed = parseIdentifier(id.toLowerCase());
    expect(parsed).toEqual({
      ok: true,
      value: {
        canonical: id,
        nationalPrefix: 'CN',
        nodeCode: 'R0001',
        objectType: 'RP',
        serial: 42,
        check: id.slice(-1),
      },
    });
  });

  it('matches the ISO/IEC 7064 MOD 37-2 reference value', () => {
    // Worked by hand from the standard's definition: the weighted sum including the check is 1 mod 37.
    for (const sample of ['0', 'A', 'CNR0001RP00000042', 'ZZZZZZZZ']) {
      const check = mod37CheckValue(sample);
      const values = [...sample].map((c) => CHECK_ALPHABET.indexOf(c));
      const n = values.length;
      const weighted =
        values.reduce((sum, v, i) => sum + v * Number(2n ** BigInt(n - i) % 37n), 0) + check;
      expect(weighted % 37).toBe(1);
    }
  });

  it('refuses to format a serial whose check would be the non-alphanumeric symbol', () => {
    let unusable = 0;
    for (let serial = 1; serial <= 2000; serial++) {
      if (!isUsableSerial('CN.R0001', 'RP', serial)) {
        unusable++;
        expect(() => formatIdentifier('CN.R0001', 'RP', serial)).toThrow(/skip it/);
      }
    }
    // About one serial in 37 is skipped: enough to matter, few enough not to waste the range.
    expect(unusable).toBeGreaterThan(20);
    expect(unusable).toBeLessThan(110);
  });

  it('rejects bad grammar, unknown object types and wrong check characters with distinct failures', () => {
    const id = formatIdentifier('CN.R0001', 'LN', 7);
    expect(parseIdentifier('CN.R0001.LN.7')).toMatchObject({ ok: false, failure: 'GRAMMAR' });
    expect(parseIdentifier(`${id}.`)).toMatchObject({ ok: false, failure: 'GRAMMAR' });
    expect(parseIdentifier(id.replace('.LN.', '.XX.'))).toMatchObject({
      ok: false,
      failure: 'OBJECT_TYPE',
    });
    const wrong = CHECK_ALPHABET[(CHECK_ALPHABET.indexOf(id.slice(-1)) + 1) % 36];
    expect(parseIdentifier(id.slice(0, -1) + wrong)).toMatchObject({
      ok: false,
      failure: 'CHECK_CHARACTER',
    });
  });

  it('detects, over every pair of values and every checksum state, each neighbour swap and each substitution', () => {
    // The local property behind the proof: one MOD 37-2 step p -> 2(p+a) mod 37 is injective in a,
    // and two steps with a,b give a different state than with b,a. Exhaustive over all 37 states.
    const step = (p: number, a: number) => ((p + a) * 2) % 37;
    const collisions: string[] = [];
    for (let p = 0; p < 37; p++) {
      for (let a = 0; a < 36; a++) {
        for (let b = 0; b < 36; b++) {
          if (a === b) continue;
          if (step(p, a) === step(p, b)) collisions.push(`substitution p=${p} ${a}->${b}`);
          if (step(step(p, a), b) === step(step(p, b), a))
            collisions.push(`transposition p=${p} ${a}<->${b}`);
        }
      }
    }
    expect(collisions).toEqual([]);
    // And every later step is a permutation of the state, so a difference is never undone.
    for (let a = 0; a < 36; a++) {
      expect(new Set(Array.from({ length: 37 }, (_, p) => step(p, a))).size).toBe(37);
    }
    expect(UNUSABLE_CHECK_VALUE).toBe(36);
  });

  it('property: every single substitution and adjacent transposition of thousands of random identifiers is caught', () => {
    const seed = 20261123;
    const random = prng(seed);
    const cases = 3000;
    let mutants = 0;
    for (let n = 0; n < cases; n++) {
      const id = randomIdentifier(random);
      expect(parseIdentifier(id).ok).toBe(true);
      for (let i = 0; i < id.length; i++) {
        for (const replacement of TYPED_ALPHABET) {
          if (replacement === id[i]) continue;
          const mutant = id.slice(0, i) + replacement + id.slice(i + 1);
          mutants++;
          if (parseIdentifier(mutant).ok)
            throw new Error(`seed ${seed}: substitution ${id} -> ${mutant} went undetected`);
        }
        if (i + 1 < id.length && id[i] !== id[i + 1]) {
          const swapped = id.slice(0, i) + id[i + 1] + id[i] + id.slice(i + 2);
          mutants++;
          if (parseIdentifier(swapped).ok)
            throw new Error(`seed ${seed}: transposition ${id} -> ${swapped} went undetected`);
        }
      }
    }
    expect(mutants).toBeGreaterThan(cases * 20 * 36);
  });

  it('accepts every object type code and nothing else', () => {
    const types: ObjectTypeCode[] = ['RP', 'PT', 'LN', 'AS'];
    expect([...OBJECT_TYPE_CODES]).toEqual(types);
  });
});
