import { readFile } from 'node:fs/promises';
import type { InventoryData } from '@cinode/contracts';
import {
  AcceleratorKind,
  PoolClass,
  type PoolSpec,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type { InventorySource, PoolDefinition } from './inventory-source';

const count = z.number().int().nonnegative().safe();
const amount = z.number().nonnegative().finite();

/** A total and the free part of it. */
function pair(unit: z.ZodNumber) {
  return z
    .object({ total: unit, free: unit })
    .strict()
    .refine((p) => p.free <= p.total, {
      message: 'free must be at most total',
      path: ['free'],
    });
}

const inventorySchema = z
  .object({
    cpu_servers: count,
    cpu_cores: pair(count),
    gpu_servers: count.default(0),
    gpu_cards: pair(count).default({ total: 0, free: 0 }),
    npu_servers: count.default(0),
    npu_cards: pair(count).default({ total: 0, free: 0 }),
    fp16_tflops: pair(amount),
    fp32_tflops: pair(amount),
    memory_gib: pair(count),
    storage_gib: pair(count),
    uplink_mbps: pair(count),
    uplink_traffic_gb_free: count,
    downlink_mbps: pair(count),
    downlink_traffic_gb_free: count,
  })
  .strict();

const poolSchema = z
  .object({
    key: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,48}$/, "must be 1 to 48 letters, digits, '.', '_' or '-'"),
    name: z.string().min(1).max(200),
    class: z.enum(['A', 'B']),
    site: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1 to 64 letters, digits, '.', '_' or '-'"),
    region_code: z.string().regex(/^\d{6}$/, 'must be a six-digit administrative division code'),
    accelerators: z
      .array(
        z
          .object({
            kind: z.enum(['GPU', 'NPU']),
            model: z.string().min(1).max(64),
            domestic: z.boolean(),
          })
          .strict(),
      )
      .max(16)
      .default([]),
    security_level: z.number().int().min(1).max(4),
    datacenter_tier: z.number().int().min(1).max(4),
    pue: z.number().min(1).max(3),
    renewable_ratio: z.number().min(0).max(1),
    gflops_per_watt: z.number().positive().max(1000),
    price_fen_per_hour: z
      .object({
        cpu_core: count.default(0),
        gpu_card: count.default(0),
        npu_card: count.default(0),
        memory_gib: count.default(0),
        storage_gib: count.default(0),
      })
      .strict(),
    inventory: inventorySchema,
  })
  .strict();

const fileSchema = z
  .object({
    pools: z
      .array(poolSchema)
      .min(1, 'must list at least one pool')
      .superRefine((pools, ctx) => {
        const seen = new Map<string, number>();
        pools.forEach((pool, i) => {
          const first = seen.get(pool.key);
          if (first !== undefined)
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              path: [i, 'key'],
              message: `repeats the key of pools[${first}]`,
            });
          else seen.set(pool.key, i);
        });
      }),
  })
  .strict();

export type InventoryFile = z.infer<typeof fileSchema>;
type FilePool = InventoryFile['pools'][number];

/** A problem of an inventory file, at a path in it (and its line, when the file has one there). */
export class InventoryFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ReadonlyArray<{ path: string; line?: number; message: string }>,
  ) {
    super(
      `${file}: invalid inventory file:\n` +
        problems
          .map((p) => `  ${p.path}${p.line === undefined ? '' : ` (line ${p.line})`}: ${p.message}`)
          .join('\n'),
    );
    this.name = 'InventoryFileError';
  }
}

/** `pools[2].inventory.gpu_cards.free` for zod's path. */
export function pathText(path: ReadonlyArray<string | number>): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

/** Parses and validates an inventory file's text; every problem names its path. */
export function parseInventoryFile(file: string, text: string): InventoryFile {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0)
    throw new InventoryFileError(
      file,
      document.errors.map((e) => ({
        path: '(yaml)',
        line: lines.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0],
      })),
    );
  const parsed = fileSchema.safeParse(document.toJS());
  if (!parsed.success)
    throw new InventoryFileError(
      file,
      parsed.error.issues.map((issue) => {
        const path = issue.path;
        return {
          path: pathText(path) || '(root)',
          line: lineOf(document, lines, path),
          message: issue.message === 'Required' ? 'is required' : issue.message,
        };
      }),
    );
  return parsed.data;
}

function lineOf(
  document: Document,
  lines: LineCounter,
  path: ReadonlyArray<string | number>,
): number | undefined {
  // The deepest node of the path that the file has: a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = document.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

export function specOf(pool: FilePool): PoolSpec {
  return {
    name: pool.name,
    poolClass:
      pool.class === 'A' ? PoolClass.POOL_CLASS_BARE_METAL : PoolClass.POOL_CLASS_VIRTUAL_MACHINE,
    site: pool.site,
    regionCode: pool.region_code,
    accelerators: pool.accelerators.map((a) => ({
      kind:
        a.kind === 'GPU'
          ? AcceleratorKind.ACCELERATOR_KIND_GPU
          : AcceleratorKind.ACCELERATOR_KIND_NPU,
      model: a.model,
      domestic: a.domestic,
    })),
    securityLevel: pool.security_level,
    datacenterTier: pool.datacenter_tier,
    pue: pool.pue,
    renewableRatio: pool.renewable_ratio,
    gflopsPerWatt: pool.gflops_per_watt,
    price: {
      cpuCoreHourFen: pool.price_fen_per_hour.cpu_core,
      gpuCardHourFen: pool.price_fen_per_hour.gpu_card,
      npuCardHourFen: pool.price_fen_per_hour.npu_card,
      memoryGibHourFen: pool.price_fen_per_hour.memory_gib,
      storageGibHourFen: pool.price_fen_per_hour.storage_gib,
    },
  };
}

export function inventoryOf(pool: FilePool): InventoryData {
  const i = pool.inventory;
  return {
    cpuServers: i.cpu_servers,
    cpuCoresTotal: i.cpu_cores.total,
    cpuCoresFree: i.cpu_cores.free,
    gpuServers: i.gpu_servers,
    gpuCardsTotal: i.gpu_cards.total,
    gpuCardsFree: i.gpu_cards.free,
    npuServers: i.npu_servers,
    npuCardsTotal: i.npu_cards.total,
    npuCardsFree: i.npu_cards.free,
    fp16TflopsTotal: i.fp16_tflops.total,
    fp16TflopsFree: i.fp16_tflops.free,
    fp32TflopsTotal: i.fp32_tflops.total,
    fp32TflopsFree: i.fp32_tflops.free,
    memoryGibTotal: i.memory_gib.total,
    memoryGibFree: i.memory_gib.free,
    storageGibTotal: i.storage_gib.total,
    storageGibFree: i.storage_gib.free,
    uplinkMbpsTotal: i.uplink_mbps.total,
    uplinkMbpsFree: i.uplink_mbps.free,
    uplinkTrafficGbFree: i.uplink_traffic_gb_free,
    downlinkMbpsTotal: i.downlink_mbps.total,
    downlinkMbpsFree: i.downlink_mbps.free,
    downlinkTrafficGbFree: i.downlink_traffic_gb_free,
  };
}

/**
 * Pools and capacity from a YAML file the provider's own systems keep up to date: the pools are
 * read at start; the capacity is read again at every observation, so a file rewritten by an
 * exporter is reported as it changes. A file that turns invalid keeps the last good capacity and
 * the error is reported (the caller logs it); one whose pools changed needs a restart.
 */
export class YamlInventory implements InventorySource {
  /** The file states the site's real free capacity: the node's running tasks are in it. */
  readonly seesTasks = true;

  private constructor(
    private readonly file: string,
    private readonly definitions: readonly PoolDefinition[],
  ) {}

  static async load(file: string): Promise<YamlInventory> {
    const parsed = parseInventoryFile(file, await readFile(file, 'utf8'));
    return new YamlInventory(
      file,
      parsed.pools.map((pool) => ({ key: pool.key, spec: specOf(pool) })),
    );
  }

  pools(): readonly PoolDefinition[] {
    return this.definitions;
  }

  async observe(): Promise<ReadonlyMap<string, InventoryData>> {
    const parsed = parseInventoryFile(this.file, await readFile(this.file, 'utf8'));
    const known = new Set(this.definitions.map((d) => d.key));
    return new Map(
      parsed.pools
        .filter((pool) => known.has(pool.key))
        .map((pool) => [pool.key, inventoryOf(pool)]),
    );
  }
}
