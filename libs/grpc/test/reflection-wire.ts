import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * The gRPC server reflection messages encoded by hand from the field numbers of the upstream
 * schema (grpc/grpc-proto, grpc/reflection/v1/reflection.proto, identical on the wire in v1alpha),
 * so these tests do not trust the workspace's vendored copy: a drifted field number fails them.
 */
export type ReflectionQuery =
  | { fileByFilename: string }
  | { fileContainingSymbol: string }
  | { fileContainingExtension: { containingType: string; extensionNumber: number } }
  | { allExtensionNumbersOfType: string }
  | { listServices: string };

export interface ReflectionRequest {
  host?: string;
  query: ReflectionQuery;
}

export interface ReflectionReply {
  validHost: string;
  /** The raw original_request, to compare with what was sent. */
  originalRequest?: Uint8Array;
  fileDescriptorProtos?: Uint8Array[];
  extensionNumbers?: { baseTypeName: string; numbers: number[] };
  services?: string[];
  error?: { code: number; message: string };
}

export function encodeReflectionRequest(request: ReflectionRequest): Uint8Array {
  const writer = new BinaryWriter();
  if (request.host !== undefined) writer.tag(1, WireType.LengthDelimited).string(request.host);
  const { query } = request;
  if ('fileByFilename' in query)
    writer.tag(3, WireType.LengthDelimited).string(query.fileByFilename);
  else if ('fileContainingSymbol' in query)
    writer.tag(4, WireType.LengthDelimited).string(query.fileContainingSymbol);
  else if ('fileContainingExtension' in query) {
    writer
      .tag(5, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.LengthDelimited)
      .string(query.fileContainingExtension.containingType)
      .tag(2, WireType.Varint)
      .int32(query.fileContainingExtension.extensionNumber)
      .join();
  } else if ('allExtensionNumbersOfType' in query) {
    writer.tag(6, WireType.LengthDelimited).string(query.allExtensionNumbersOfType);
  } else writer.tag(7, WireType.LengthDelimited).string(query.listServices);
  return writer.finish();
}

/** Reads every field of a message, calling `field` for each; unknown fields are skipped. */
function readFields(
  bytes: Uint8Array,
  field: (fieldNo: number, wireType: WireType, reader: BinaryReader) => boolean,
): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (!field(fieldNo, wireType, reader)) reader.skip(wireType, fieldNo);
  }
}

export function decodeReflectionReply(bytes: Uint8Array): ReflectionReply {
  const reply: ReflectionReply = { validHost: '' };
  readFields(bytes, (fieldNo, wireType, reader) => {
    if (wireType !== WireType.LengthDelimited) return false;
    switch (fieldNo) {
      case 1:
        reply.validHost = reader.string();
        return true;
      case 2:
        reply.originalRequest = reader.bytes();
        return true;
      case 4: {
        const files: Uint8Array[] = [];
        readFields(reader.bytes(), (n, t, r) => {
          if (n !== 1 || t !== WireType.LengthDelimited) return false;
          files.push(r.bytes());
          return true;
        });
        reply.fileDescriptorProtos = files;
        return true;
      }
      case 5: {
        const result = { baseTypeName: '', numbers: [] as number[] };
        readFields(reader.bytes(), (n, t, r) => {
          if (n === 1 && t === WireType.LengthDelimited) result.baseTypeName = r.string();
          else if (n === 2 && t === WireType.Varint) result.numbers.push(r.int32());
          else if (n === 2 && t === WireType.LengthDelimited) {
            const packed = new BinaryReader(r.bytes());
            while (packed.pos < packed.len) result.numbers.push(packed.int32());
          } else return false;
          return true;
        });
        reply.extensionNumbers = result;
        return true;
      }
      case 6: {
        const services: string[] = [];
        readFields(reader.bytes(), (n, t, r) => {
          if (n !== 1 || t !== WireType.LengthDelimited) return false;
          readFields(r.bytes(), (m, u, service) => {
            if (m !== 1 || u !== WireType.LengthDelimited) return false;
            services.push(service.string());
            return true;
          });
          return true;
        });
        reply.services = services;
        return true;
      }
      case 7: {
        const error = { code: 0, message: '' };
        readFields(reader.bytes(), (n, t, r) => {
          if (n === 1 && t === WireType.Varint) error.code = r.int32();
          else if (n === 2 && t === WireType.LengthDelimited) error.message = r.string();
          else return false;
          return true;
        });
        reply.error = error;
        return true;
      }
      default:
        return false;
    }
  });
  return reply;
}
