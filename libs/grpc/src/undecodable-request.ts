import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';

/**
 * What a request that is not a valid message of its type decodes to. grpc-js would answer a
 * deserializer's exception with INTERNAL, before any of the service's code runs; decoding to this
 * instead lets the call pipeline authenticate the caller, refuse the call as INVALID_ARGUMENT and
 * audit it like any other bad request.
 */
export class UndecodableRequest {
  constructor(
    /** The message type the bytes were meant to be. */
    readonly type: string,
    /** Why protobuf refused them. */
    readonly problem: string,
  ) {}
}

type AnyMethod = MethodDefinition<unknown, unknown>;

/**
 * A copy of the package definition in which the request deserializers of `services` never throw:
 * bytes that do not decode become an UndecodableRequest. Other services (health, reflection) and
 * the shared definition itself are left as they are.
 */
export function withTolerantRequestDecoding(
  definition: PackageDefinition,
  services: readonly string[],
): PackageDefinition {
  const copy: PackageDefinition = { ...definition };
  for (const name of services) {
    const service = definition[name] as Record<string, AnyMethod> | undefined;
    if (!service) continue;
    const methods: Record<string, AnyMethod> = {};
    for (const [method, spec] of Object.entries(service)) {
      const decode = spec.requestDeserialize;
      const type = (spec.requestType.type as { name?: unknown }).name;
      methods[method] = {
        ...spec,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return decode(bytes);
          } catch (error: unknown) {
            return new UndecodableRequest(
              typeof type === 'string' ? type : 'request',
              error instanceof Error ? error.message : String(error),
            );
          }
        },
      };
    }
    copy[name] = methods as unknown as PackageDefinition[string];
  }
  return copy;
}
