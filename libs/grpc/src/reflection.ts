import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { toBinary } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from '@bufbuild/protobuf/wkt';
import type {
  ServerReflectionRequest,
  ServerReflectionResponse,
} from '@cinode/proto/gen/grpc/reflection/v1/reflection';

/**
 * gRPC server reflection (v1 and v1alpha share the message shapes) served from the descriptor set
 * buf builds. Unlike descriptors rebuilt by proto-loader, these keep their dependency lists, so
 * strict clients such as grpcurl can link them (grpc-node issue 2595).
 */
export class ReflectionService {
  private readonly fileBytes = new Map<string, Uint8Array>();
  private readonly fileDeps = new Map<string, string[]>();
  private readonly symbolFile = new Map<string, string>();
  private readonly extensionFile = new Map<string, string>();
  private readonly extensionNumbers = new Map<string, number[]>();

  constructor(
    set: FileDescriptorSet,
    private readonly services: readonly string[],
  ) {
    for (const file of set.file) this.index(file);
    for (const service of services) {
      if (!this.symbolFile.has(service))
        throw new Error(`reflection: no descriptor for service ${service}`);
    }
  }

  private index(file: FileDescriptorProto): void {
    this.fileBytes.set(file.name, toBinary(FileDescriptorProtoSchema, file));
    this.fileDeps.set(file.name, [...file.dependency]);
    const prefix = file.package ? `${file.package}.` : '';
    const addMessage = (message: DescriptorProto, scope: string) => {
      const name = scope + message.name;
      this.symbolFile.set(name, file.name);
      for (const nested of message.nestedType) addMessage(nested, `${name}.`);
      for (const e of message.enumType) this.symbolFile.set(`${name}.${e.name}`, file.name);
      for (const ext of message.extension) this.addExtension(ext.extendee, ext.number, file.name);
    };
    for (const message of file.messageType) addMessage(message, prefix);
    for (const e of file.enumType) this.symbolFile.set(prefix + e.name, file.name);
    for (const service of file.service) {
      this.symbolFile.set(prefix + service.name, file.name);
      for (const method of service.method)
        this.symbolFile.set(`${prefix}${service.name}.${method.name}`, file.name);
    }
    for (const ext of file.extension) this.addExtension(ext.extendee, ext.number, file.name);
  }

  private addExtension(extendee: string, num: number, fileName: string): void {
    const type = extendee.replace(/^\./, '');
    this.extensionFile.set(`${type}#${num}`, fileName);
    this.extensionNumbers.set(type, [...(this.extensionNumbers.get(type) ?? []), num]);
  }

  /** The file and everything it imports, transitively, dependencies after dependents. */
  private withDependencies(fileName: string): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const bytes = this.fileBytes.get(name);
      if (!bytes) return;
      out.push(bytes);
      for (const dep of this.fileDeps.get(name) ?? []) visit(dep);
    };
    visit(fileName);
    return out;
  }

  answer(request: ServerReflectionRequest): ServerReflectionResponse {
    const base: ServerReflectionResponse = {
      validHost: request.host,
      originalRequest: request,
    } as ServerReflectionResponse;
    const notFound = (what: string): ServerReflectionResponse => ({
      ...base,
      errorResponse: { errorCode: GrpcStatus.NOT_FOUND, errorMessage: `${what} not found` },
    });
    const files = (name: string | undefined, what: string) =>
      name && this.fileBytes.has(name)
        ? { ...base, fileDescriptorResponse: { fileDescriptorProto: this.withDependencies(name) } }
        : notFound(what);

    if (request.listServices !== undefined) {
      return {
        ...base,
        listServicesResponse: { service: this.services.map((name) => ({ name })) },
      };
    }
    if (request.fileByFilename !== undefined) {
      return files(request.fileByFilename, `file ${request.fileByFilename}`);
    }
    if (request.fileContainingSymbol !== undefined) {
      const symbol = request.fileContainingSymbol.replace(/^\./, '');
      return files(this.symbolFile.get(symbol), `symbol ${symbol}`);
    }
    if (request.fileContainingExtension !== undefined) {
      const { containingType, extensionNumber } = request.fileContainingExtension;
      return files(this.extensionFile.get(`${containingType}#${extensionNumber}`), 'extension');
    }
    if (request.allExtensionNumbersOfType !== undefined) {
      const type = request.allExtensionNumbersOfType;
      if (!this.symbolFile.has(type)) return notFound(`type ${type}`);
      return {
        ...base,
        allExtensionNumbersResponse: {
          baseTypeName: type,
          extensionNumber: this.extensionNumbers.get(type) ?? [],
        },
      };
    }
    return {
      ...base,
      errorResponse: {
        errorCode: GrpcStatus.UNIMPLEMENTED,
        errorMessage: 'unsupported reflection request',
      },
    };
  }

  implementation(): UntypedServiceImplementation {
    return {
      ServerReflectionInfo: (
        call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>,
      ) => {
        call.on('data', (request: ServerReflectionRequest) => call.write(this.answer(request)));
        call.on('end', () => call.end());
        call.on('error', () => call.end());
      },
    };
  }
}
