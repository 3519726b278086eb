import type { PackageDefinition } from '@grpc/proto-loader';
import { EncodedResponse, frozenResponses, withFrozenResponseEncoding } from './frozen-responses';

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

  it('sends the bytes of an encoded response as they are', () => {
    let encodings = 0;
    const definition = {
      'p.S': {
        M: {
          responseSerialize: () => {
            encodings += 1;
            return Buffer.from('encoded by the server');
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
    const backing = new Uint8Array([9, 8, 1, 2, 3, 7]);
    const encoded = EncodedResponse.of(backing.subarray(2, 5));
    expect([...method.responseSerialize(encoded)]).toEqual([1, 2, 3]);
    // A view of the encoder's buffer, not a copy.
    expect(encoded.bytes.buffer).toBe(backing.buffer);
    expect(encodings).toBe(0);
  });
});
