import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, type FileDescriptorSet } from '@bufbuild/protobuf/wkt';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { wrappers, type IConversionOptions, type Message, type Type } from 'protobufjs';
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

/**
 * The folder holding the .proto sources: the nearest `proto/` above this file, which is the
 * repository's in development and tests and the image's (deploy/Dockerfile copies it) in production.
 */
export function protoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'cinode'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no proto/ folder found above ${__dirname}`);
    dir = parent;
  }
}

function protoFiles(root: string, dir = root): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) files.push(...protoFiles(root, full));
    else if (entry.endsWith('.proto')) files.push(relative(root, full));
  }
  return files.sort();
}

/**
 * One package definition for every service of the workspace, shared by servers and clients. It is
 * parsed from the .proto sources rather than from the descriptor set: protobufjs only applies
 * camelCase field names when it parses source, and the generated types use camelCase.
 */
export function cinodePackageDefinition(): PackageDefinition {
  if (!packageDefinition) {
    registerFieldMaskWrapper();
    const root = protoRoot();
    packageDefinition = loadSync(protoFiles(root), {
      ...PROTO_LOADER_OPTIONS,
      includeDirs: [root],
    });
  }
  return packageDefinition;
}

/**
 * ts-proto types google.protobuf.FieldMask as its `paths` (string[]); protobufjs, which encodes for
 * proto-loader, would otherwise expect and produce `{ paths: [...] }`. This wrapper makes the wire
 * objects match the generated types in both directions.
 */
function registerFieldMaskWrapper(): void {
  wrappers['.google.protobuf.FieldMask'] = {
    fromObject(this: Type, object: Record<string, unknown> | string[]): Message {
      return this.fromObject(Array.isArray(object) ? { paths: object } : object);
    },
    toObject(this: Type, message: Message, options?: IConversionOptions): Record<string, unknown> {
      const plain = this.toObject(message, options) as { paths?: string[] };
      return (plain.paths ?? []) as unknown as Record<string, unknown>;
    },
  };
}
