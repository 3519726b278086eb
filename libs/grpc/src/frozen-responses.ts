import type { PackageDefinition } from '@grpc/proto-loader';

type AnyMethod = { responseSerialize: (value: unknown) => Buffer } & Record<string, unknown>;

function deepFreeze<T>(value: T): T {
  // Bytes cannot be frozen; a response's bytes fields are left as they are.
  if (ArrayBuffer.isView(value)) return value;
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * One kind of response built from a shared object (a cached record), frozen, built once while the
 * object lives: a handler answering many calls from one object then answers each with the same
 * response, which the server encodes once (withFrozenResponseEncoding). A frozen response cannot be
 * changed, so its bytes cannot go stale. One per call site: responses of different shapes built
 * from the same object never mix.
 */
export function frozenResponses<S extends object, T extends object>(
  build: (source: S) => T,
): (source: S) => T {
  const built = new WeakMap<S, T>();
  return (source) => {
    let response = built.get(source);
    if (!response) {
      response = deepFreeze(build(source));
      built.set(source, response);
    }
    return response;
  };
}

/**
 * A response a handler encoded itself (e.g. with the generated `Message.encode`, or bytes it keeps
 * for answering the same question again): the server sends its bytes as they are. The handler
 * vouches that they are a message of the method's response type.
 */
export class EncodedResponse {
  constructor(readonly bytes: Buffer) {}

  /** The bytes of a message as the generated encoders finish them, without copying. */
  static of(bytes: Uint8Array): EncodedResponse {
    return new EncodedResponse(
      Buffer.isBuffer(bytes)
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    );
  }
}

/**
 * The package definition with every method of these services encoding a frozen response once,
 * reusing its bytes when the same response answers again, and sending an EncodedResponse's bytes
 * as they are; any other response is encoded as usual.
 */
export function withFrozenResponseEncoding(
  definition: PackageDefinition,
  services: readonly string[],
): PackageDefinition {
  const copy: PackageDefinition = { ...definition };
  for (const name of services) {
    const service = definition[name] as unknown as Record<string, AnyMethod> | undefined;
    if (!service) continue;
    const methods: Record<string, AnyMethod> = {};
    for (const [method, spec] of Object.entries(service)) {
      const encode = spec.responseSerialize;
      // Bytes of frozen responses, per method: the same object never answers as another type.
      const encoded = new WeakMap<object, Buffer>();
      methods[method] = {
        ...spec,
        responseSerialize: (value: unknown) => {
          if (value instanceof EncodedResponse) return value.bytes;
          if (typeof value !== 'object' || value === null || !Object.isFrozen(value))
            return encode(value);
          let bytes = encoded.get(value);
          if (!bytes) {
            bytes = encode(value);
            encoded.set(value, bytes);
          }
          return bytes;
        },
      };
    }
    copy[name] = methods as unknown as PackageDefinition[string];
  }
  return copy;
}
