import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, type FileDescriptorSet } from '@bufbuild/protobuf/wkt';
import { loadFileDescriptorSetFromBuffer, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { DESCRIPTOR_SET_BASE64 } from './gen/descriptor-set';

/**
 * proto-loader options matching the ts-proto settings in buf.gen.yaml: camelCase fields, numeric
 * enums, 64-bit integers as numbers, defaults filled in, so a decoded message has exactly the shape
 * of its generated TypeScript interface.
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

let descriptorBytes: Buffer | undefined;
let packageDefinition: PackageDefinition | undefined;
let parsedDescriptorSet: FileDescriptorSet | undefined;

/** The serialized FileDescriptorSet of every file under proto/, as built by buf. */
export function descriptorSetBytes(): Buffer {
  descriptorBytes ??= Buffer.from(DESCRIPTOR_SET_BASE64, 'base64');
  return descriptorBytes;
}

/** The parsed descriptor set, for reflection. */
export function descriptorSet(): FileDescriptorSet {
  parsedDescriptorSet ??= fromBinary(FileDescriptorSetSchema, descriptorSetBytes());
  return parsedDescriptorSet;
}

/** One package definition for every service of the workspace, shared by servers and clients. */
export function cinodePackageDefinition(): PackageDefinition {
  packageDefinition ??= loadFileDescriptorSetFromBuffer(descriptorSetBytes(), PROTO_LOADER_OPTIONS);
  return packageDefinition;
}
