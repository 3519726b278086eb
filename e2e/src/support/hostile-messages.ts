import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { protoRoot } from '@cinode/proto';
import { Enum, MapField, Root, Type, type Field, type Service } from 'protobufjs';

/** Every RPC of the node's APIs: its full path and the protobuf type of its request. */
export interface Rpc {
  service: string;
  path: string;
  requestType: Type;
  /** Whether the client streams its requests, and the server its responses. */
  requestStream: boolean;
  responseStream: boolean;
}

function protoSources(root: string, dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) files.push(...protoSources(root, full));
    else if (entry.endsWith('.proto')) files.push(relative(root, full));
  }
  return files;
}

/** The RPCs of every `cinode.*` service but the test-only ones, read from the .proto sources. */
export function nodeRpcs(): Rpc[] {
  const root = protoRoot();
  const protobuf = new Root();
  protobuf.resolvePath = (_origin, target) => join(root, target);
  protobuf.loadSync(protoSources(root, join(root, 'cinode')), { keepCase: true });
  protobuf.resolveAll();
  const rpcs: Rpc[] = [];
  const visit = (namespace: { nestedArray: unknown[] }, prefix: string): void => {
    for (const nested of namespace.nestedArray) {
      const item = nested as { name: string; nestedArray?: unknown[] };
      const name = prefix ? `${prefix}.${item.name}` : item.name;
      if (isService(nested)) {
        if (name.startsWith('cinode.testing.')) continue;
        for (const method of nested.methodsArray) {
          if (!method.resolvedRequestType) throw new Error(`${name}/${method.name}: unresolved`);
          rpcs.push({
            service: name,
            path: `/${name}/${method.name}`,
            requestType: method.resolvedRequestType,
            requestStream: method.requestStream === true,
            responseStream: method.responseStream === true,
          });
        }
      } else if (item.nestedArray) {
        visit(item as { nestedArray: unknown[] }, name);
      }
    }
  };
  visit(protobuf, '');
  return rpcs;
}

function isService(value: unknown): value is Service {
  return typeof value === 'object' && value !== null && 'methodsArray' in value;
}

/** Page tokens a caller might make up: old unsigned JSON, and the signed shape with a bad MAC. */
const FORGED_TOKENS = [
  Buffer.from(JSON.stringify({ after: "'; SELECT 1; --", afterId: 'x', f: '' })).toString(
    'base64url',
  ),
  `${Buffer.from(JSON.stringify({ a: 'not-a-time', i: 'x' })).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`,
  `${Buffer.from(JSON.stringify({ a: '99999999999999999999', i: '' })).toString('base64url')}.${'A'.repeat(22)}`,
];

const HOSTILE_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'x'.repeat(70_000),
  "' OR '1'='1' --",
  '); DROP TABLE participant; --',
  '../../../../etc/passwd',
  '%00%0a%0d',
  '\u202Egnp.exe',
  '\uD83D\uDE00'.repeat(100),
  '算力互联互通节点'.repeat(50),
  '\u0007\u001b[31mred\u001b[0m',
  'line\r\nbreak',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'CN.R0001.RP.000000011',
  'CN.R0001.RP.00000001Z',
  'R0001',
  '91440300708461136T',
  '-1',
  '1e309',
  'NaN',
  '{"$where":"1"}',
  '<script>alert(1)</script>',
  'a'.repeat(65),
  'a'.repeat(129),
  'a'.repeat(1_025),
  ...FORGED_TOKENS,
];

/** Plausible values, so that most of a message passes and the hostile part reaches deeper code. */
const PLAUSIBLE_STRINGS = [
  '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f',
  'CN.R0001.RP.000000011',
  'R0001',
  '91440300708461136T',
  'Example Compute Co.',
  'li.lei@example.cn',
  '13800138000',
  'request-1',
  'east',
];

const HOSTILE_INTEGERS = [0, 1, -1, 2_147_483_647, -2_147_483_648, 4_294_967_295, 1e13, -1e13];
const HOSTILE_LONGS = [0, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e15, 2 ** 62];
const HOSTILE_DOUBLES = [0, -0, 1e308, -1e308, Number.NaN, Infinity, -Infinity, 5e-324];

/**
 * Makes well-formed messages of a type with hostile values: NUL and 70 kB strings, injection
 * strings, extreme and non-finite numbers, unknown enum values, timestamps far outside any range,
 * thousands of repeated items, deep nesting. Every field is set with some probability.
 */
export class HostileMessages {
  constructor(private readonly random: () => number) {}

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)];
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  randomBytes(max: number): Buffer {
    const bytes = Buffer.alloc(Math.floor(this.random() * max));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(this.random() * 256);
    return bytes;
  }

  /** An encoded message of `type`. */
  encode(type: Type): Buffer {
    const message = type.fromObject(this.objectOf(type, 0));
    return Buffer.from(type.encode(message).finish());
  }

  private objectOf(type: Type, depth: number): Record<string, unknown> {
    if (
      type.fullName === '.google.protobuf.Timestamp' ||
      type.fullName === '.google.protobuf.Duration'
    )
      return {
        seconds: this.pick([0, -1, 1e13, -1e13, 253_402_300_800, -62_135_596_801, 1_790_000_000]),
        nanos: this.pick([0, -1, 999_999_999, 1_000_000_000, 2_147_483_647]),
      };
    // Half the messages are plausible but for one hostile field; the rest hostile throughout.
    const fields = type.fieldsArray;
    const hostileField = this.chance(0.5) ? this.pick(fields) : undefined;
    const object: Record<string, unknown> = {};
    for (const field of fields) {
      if (hostileField === undefined || field === hostileField) {
        if (this.chance(0.8)) object[field.name] = this.valueOf(field, depth);
      } else {
        object[field.name] = this.plausible(field, depth);
      }
    }
    return object;
  }

  private plausible(field: Field, depth: number): unknown {
    const resolved = field.resolvedType;
    const one = (): unknown => {
      if (resolved instanceof Enum) {
        const known = Object.values(resolved.values).filter((v) => v !== 0);
        return known.length > 0 ? this.pick(known) : 0;
      }
      if (resolved instanceof Type) return depth >= 4 ? {} : this.objectOf(resolved, depth + 1);
      if (field.type === 'string') return this.pick(PLAUSIBLE_STRINGS);
      if (field.type === 'bool') return this.chance(0.5);
      if (field.type === 'bytes') return Buffer.alloc(0);
      return this.pick([0, 1, 10, 50]);
    };
    if (field instanceof MapField) return { zone: 'east' };
    return field.repeated ? [one()] : one();
  }

  private valueOf(field: Field, depth: number): unknown {
    if (field instanceof MapField) {
      const map: Record<string, unknown> = {};
      const entries = this.pick([0, 1, 5, 40, 2_000]);
      for (let i = 0; i < entries; i++) {
        const key = i === 0 ? this.pick(HOSTILE_STRINGS).slice(0, 300) : `k${i}`;
        map[key] = this.scalarOrMessage(field, depth);
      }
      return map;
    }
    if (field.repeated) {
      const count = this.pick([0, 1, 3, 100, 3_000]);
      const items: unknown[] = [];
      // Thousands of small items, not thousands of 70 kB strings: the point is the count.
      for (let i = 0; i < count; i++)
        items.push(
          count > 100
            ? this.smallScalarOrMessage(field, depth)
            : this.scalarOrMessage(field, depth),
        );
      return items;
    }
    return this.scalarOrMessage(field, depth);
  }

  private smallScalarOrMessage(field: Field, depth: number): unknown {
    if (field.type === 'string') return this.pick(['', 'a\u0000', 'x', 'CN.R0001.RP.000000011']);
    return this.scalarOrMessage(field, depth + 2);
  }

  private scalarOrMessage(field: Field, depth: number): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof Enum) {
      const known = Object.values(resolved.values);
      return this.chance(0.5) ? this.pick(known) : this.pick([9_999, -5, 2_147_483_647]);
    }
    if (resolved instanceof Type) {
      if (depth >= 4) return {};
      return this.objectOf(resolved, depth + 1);
    }
    switch (field.type) {
      case 'string':
        return this.pick(HOSTILE_STRINGS);
      case 'bool':
        return this.chance(0.5);
      case 'bytes':
        return this.randomBytes(64);
      case 'double':
      case 'float':
        return this.pick(HOSTILE_DOUBLES);
      case 'int64':
      case 'uint64':
      case 'sint64':
      case 'fixed64':
      case 'sfixed64':
        return this.pick(HOSTILE_LONGS);
      default:
        return this.pick(HOSTILE_INTEGERS);
    }
  }
}
