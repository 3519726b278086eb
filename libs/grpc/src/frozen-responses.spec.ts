import type { PackageDefinition } from '@grpc/proto-loader';
import { frozenResponses, withFrozenResponseEncoding } from './frozen-responses';

describe('frozen responses', () => {
  it('builds one frozen response per source and call site, deep', () => {
    const source = {};
    let built = 0;
    const itemOf = frozenResponses((_: object) => {
      built += 1;
      return { item: { name: 'a', tags: ['x'] } };
    });
    const first = itemOf(source);
    expect(itemOf(source)).toBe(first);
    expect(built).toBe(1);
    expect(Object.isFrozen(first.item.tags)).toBe(true);
    expect(() => {
      (first.item as { name: string }).name = 'b';
    }).toThrow(TypeError);
    // Another call site, another shape, from the same object.
    const countOf = frozenResponses((_: object) => ({ count: 1 }));
    expect(countOf(source)).toEqual({ count: 1 });
  });

  it('encodes a frozen response once, and anything else every time', () => {
    let encodings = 0;
    const definition = {
      'p.S': {
        M: {
          responseSerialize: (value: unknown) => {
            encodings += 1;
            return Buffer.from(JSON.stringify(value));
          },
        },
      },
    } as unknown as PackageDefinition;
    const method = (
      withFrozenResponseEncoding(definition, ['p.S'])['p.S'] as unknown as Record<
        string,
        { responseSerialize: (v: unknown) => Buffer }
      >
    ).M;
    const frozen = frozenResponses((_: object) => ({ a: 1 }))({});
    expect(method.responseSerialize(frozen).toString()).toBe('{"a":1}');
    expect(method.responseSerialize(frozen).toString()).toBe('{"a":1}');
    expect(encodings).toBe(1);
    const plain = { a: 2 };
    method.responseSerialize(plain);
    plain.a = 3;
    expect(method.responseSerialize(plain).toString()).toBe('{"a":3}');
    expect(encodings).toBe(3);
  });
});
