import type { PackageDefinition } from '@grpc/proto-loader';

type AnyMethod = { responseSerialize: (value: unknown) => Buffer } & Record<string, unknown>;

/** Deep-frozen responses by what they were built from (an object several calls share). */
const responses = new WeakMap<object, object>();
/** Bytes of frozen responses, encoded once. */
const encoded = new WeakMap<object, Buffer>();

function deepFreeze<T>(value: T): T {
  // Bytes cannot be frozen; a response's bytes fields are left as they are.
  if (ArrayBuffer.isView(value)) return value;
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The response for `source`, built once and frozen while `source` lives: a handler answering many
 * calls from one object (a cached record) then answers each with the same response, which the
 * server encodes once (see withFrozenResponseEncoding). A frozen response cannot be changed, so
 * its bytes cannot go stale.
 */
export function frozenResponse<T extends object>(source: object, build: () => T): T {
  let response = responses.get(source) as T | undefined;
  if (!response) {
    response = deepFreeze(build());
    responses.set(source, response);
  }
  return response;
}

/**
 * The package definition with every method of these services encoding a frozen response once,
 * reusing its bytes when the same response answers again; any other response is encoded as usual.
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
      methods[method] = {
        ...spec,
        responseSerialize: (value: unknown) => {
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
