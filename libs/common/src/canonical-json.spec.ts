import { canonicalJson, fingerprintOf } from './canonical-json';

describe(canonicalJson.name, () => {
  it('ignores key order and absent values at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: null, c: [2, { y: 1, x: undefined }] } })).toBe(
      '{"a":{"c":[2,{"y":1}]},"b":1}',
    );
    expect(fingerprintOf({ a: 1, b: 2 })).toBe(fingerprintOf({ b: 2, a: 1, c: undefined }));
  });

  it('tells different values apart', () => {
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: '1' }));
    expect(fingerprintOf([1, 2])).not.toBe(fingerprintOf([2, 1]));
  });
});
