import { sanitizeText } from '@cinode/common';
import { z } from 'zod';

/**
 * The report a node sends the national node (seed 004, 附录C 数据接入要求; REPORT-FIELDS.md):
 * base information, compute information and security information, as the JSON payload of
 * cinode.national.v1.SubmitReport (content type application/json). The reporting service builds
 * it with these schemas and the national node mock validates every payload against them, so the
 * two cannot drift apart. Field names are snake_case (the payload is JSON on the wire) and carry
 * their unit where they have one.
 *
 * Versioning: `schema_version` of SubmitReport names the schema. A new version adds a schema here
 * and an entry in REPORT_PAYLOAD_SCHEMAS; a version once shipped is never changed.
 */
export const REPORT_SCHEMA_VERSION = '1';
export const REPORT_CONTENT_TYPE = 'application/json';
/** The largest payload the national node accepts (SubmitReport), in bytes. */
export const MAX_REPORT_PAYLOAD_BYTES = 4 * 1024 * 1024;

/** JSON can write -0; no count or amount means it (and JSON.stringify never writes it). */
const notNegativeZero = (value: number) => !Object.is(value, -0);
const count = z
  .number()
  .int()
  .nonnegative()
  .safe()
  .refine(notNegativeZero, 'must not be negative zero');
const amount = z
  .number()
  .nonnegative()
  .finite()
  .refine(notNegativeZero, 'must not be negative zero');
const text = (max: number) => z.string().trim().min(1, 'is required').max(max);

/** A person the seed asks for: 姓名、职务、手机、邮箱. */
export const reportPersonSchema = z
  .object({
    /** 姓名. */
    name: text(100),
    /** 职务 (job title). */
    title: text(100),
    /** 手机: mobile number, digits with an optional leading '+' country code. */
    mobile: z.string().regex(/^\+?[0-9]{6,20}$/, 'must be 6 to 20 digits, optionally after "+"'),
    /** 邮箱. */
    email: z.string().email('must be an e-mail address').max(254),
  })
  .strict();

/** 基地所在位置: where the site is. */
export const siteLocationSchema = z
  .object({
    /** Human-readable location (district, park). */
    description: text(500),
    /** Six-digit GB/T 2260 administrative division code. */
    region_code: z.string().regex(/^\d{6}$/, 'must be a six-digit division code'),
    /** WGS-84 longitude in degrees, east positive. */
    longitude_deg: z.number().min(-180).max(180),
    /** WGS-84 latitude in degrees, north positive. */
    latitude_deg: z.number().min(-90).max(90),
  })
  .strict();

/** 基地概况: area, administrative set-up, population, industry structure, economy. */
export const siteOverviewSchema = z
  .object({
    /** 区域面积, in square kilometres. */
    area_km2: amount,
    /** 行政设置. */
    administrative_setup: text(2000),
    /** 人口, in persons. */
    population_persons: count,
    /** 产业结构. */
    industry_structure: text(2000),
    /** 经济运行情况. */
    economic_situation: text(2000),
  })
  .strict();

/** 基地基本信息: from the operator's configuration. */
export const baseInformationSchema = z
  .object({
    /** 单位名称. */
    organization_name: text(200),
    /** 所在城市. */
    city: text(100),
    /** 主体类型 (e.g. enterprise, public institution). */
    entity_type: text(100),
    /** 单位网址: http(s) URL. */
    website: z
      .string()
      .max(512)
      .url('must be a URL')
      .regex(/^https?:\/\//, 'must be an http or https URL'),
    /** 是否为国家级省级产业园区或新型工业化示范基地. */
    is_industrial_park_or_demonstration_base: z.boolean(),
    /** 负责人. */
    responsible_person: reportPersonSchema,
    /** 联系人. */
    contact_person: reportPersonSchema,
    /** 单位联系地址. */
    postal_address: text(500),
    /** 基地所在位置. */
    site_location: siteLocationSchema,
    /** 基地概况. */
    overview: siteOverviewSchema,
  })
  .strict();

/** Total/free pairs that must satisfy free ≤ total. */
const TOTAL_FREE_PAIRS = [
  ['uplink_mbps_total', 'uplink_mbps_free'],
  ['downlink_mbps_total', 'downlink_mbps_free'],
  ['memory_gib_total', 'memory_gib_free'],
  ['storage_gib_total', 'storage_gib_free'],
  ['cpu_cores_total', 'cpu_cores_free'],
  ['gpu_cards_total', 'gpu_cards_free'],
  ['npu_cards_total', 'npu_cards_free'],
  ['fp16_tflops_total', 'fp16_tflops_free'],
  ['fp32_tflops_total', 'fp32_tflops_free'],
] as const;

/** 基地算力信息: totals and free capacity of the node's pools in selection. */
export const computeInformationSchema = z
  .object({
    /** When the figures were computed (RFC 3339 with offset). */
    as_of: z.string().datetime({ offset: true, message: 'must be an RFC 3339 time' }),
    /** 上行网络带宽总量, Mbit/s. */
    uplink_mbps_total: count,
    /** 空闲上行网络带宽, Mbit/s. */
    uplink_mbps_free: count,
    /** 空闲上行网络流量, GB (10^9 bytes). */
    uplink_traffic_gb_free: count,
    /** 下行网络带宽总量, Mbit/s. */
    downlink_mbps_total: count,
    /** 空闲下行网络带宽, Mbit/s. */
    downlink_mbps_free: count,
    /** 空闲下行网络流量, GB (10^9 bytes). */
    downlink_traffic_gb_free: count,
    /** 内存空间总容量, GiB. */
    memory_gib_total: count,
    /** 空闲内存空间容量, GiB. */
    memory_gib_free: count,
    /** 存储空间总容量, GiB. */
    storage_gib_total: count,
    /** 空闲存储空间容量, GiB. */
    storage_gib_free: count,
    /** CPU服务器数量, servers. */
    cpu_servers: count,
    /** CPU总核数, cores. */
    cpu_cores_total: count,
    /** 空闲CPU核数, cores. */
    cpu_cores_free: count,
    /** GPU服务器数量, servers. */
    gpu_servers: count,
    /** GPU总量, cards. */
    gpu_cards_total: count,
    /** 空闲GPU, cards. */
    gpu_cards_free: count,
    /** NPU服务器数量, servers. */
    npu_servers: count,
    /** NPU总量, cards. */
    npu_cards_total: count,
    /** 空闲NPU, cards. */
    npu_cards_free: count,
    /** FP16算力总量, TFLOPS. */
    fp16_tflops_total: amount,
    /** FP16算力空闲量, TFLOPS. */
    fp16_tflops_free: amount,
    /** FP32算力总量, TFLOPS. */
    fp32_tflops_total: amount,
    /** FP32算力空闲量, TFLOPS. */
    fp32_tflops_free: amount,
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const [total, free] of TOTAL_FREE_PAIRS) {
      if (value[free] > value[total])
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [free],
          message: `must not exceed ${total}`,
        });
    }
  });

export const ATTACK_HANDLING_STATUSES = ['detected', 'handling', 'mitigated', 'resolved'] as const;
export const ATTACK_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/** One attack event (攻击事件). */
export const attackEventSchema = z
  .object({
    /** 攻击事件ID. */
    attack_event_id: text(128),
    /** 攻击时间 (RFC 3339 with offset). */
    attack_time: z.string().datetime({ offset: true, message: 'must be an RFC 3339 time' }),
    /** 攻击者IP (IPv4 or IPv6). */
    attacker_ip: z.string().ip({ message: 'must be an IPv4 or IPv6 address' }),
    /** 攻击目标IP (IPv4 or IPv6). */
    target_ip: z.string().ip({ message: 'must be an IPv4 or IPv6 address' }),
    /** 攻击手段 (e.g. DDoS, SQL injection). */
    attack_method: text(200),
    /** 被攻击资产类型 (e.g. host, database, API gateway). */
    attacked_asset_type: text(200),
    /** 是否仍在攻击. */
    ongoing: z.boolean(),
    /** 攻击事件描述. */
    description: text(4000),
    /** 当前防御处理状态. */
    handling_status: z.enum(ATTACK_HANDLING_STATUSES),
    /** 攻击危险程度. */
    severity: z.enum(ATTACK_SEVERITIES),
  })
  .strict();

/** 基地安全信息: the attack events of the period (empty until the security system feeds it). */
export const securityInformationSchema = z
  .object({
    attack_events: z.array(attackEventSchema).max(10_000),
  })
  .strict();

/** Payload of schema version 1: all three report types, each required. */
export const reportPayloadV1Schema = z
  .object({
    base: baseInformationSchema,
    compute: computeInformationSchema,
    security: securityInformationSchema,
  })
  .strict();

export type ReportPerson = z.infer<typeof reportPersonSchema>;
export type BaseInformation = z.infer<typeof baseInformationSchema>;
export type ComputeInformation = z.infer<typeof computeInformationSchema>;
export type AttackEvent = z.infer<typeof attackEventSchema>;
export type SecurityInformation = z.infer<typeof securityInformationSchema>;
export type ReportPayloadV1 = z.infer<typeof reportPayloadV1Schema>;

export const REPORT_PAYLOAD_SCHEMAS: Readonly<Record<string, z.ZodTypeAny>> = {
  [REPORT_SCHEMA_VERSION]: reportPayloadV1Schema,
};

/** A problem with one field, named by its path from `payload` (`payload.compute.cpu_cores_free`). */
export interface ReportFieldViolation {
  field: string;
  description: string;
}

/** Most violations one payload reports (a payload of thousands of bad fields answers with these). */
const MAX_VIOLATIONS = 50;

/**
 * A field's path; a name of the payload's own (an unknown key) is shown at most 64 characters long
 * with controls and display-changing characters replaced: paths go into status trailers and logs.
 */
function fieldPath(root: string, path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : `${acc}.${sanitizeText(String(part), 64)}`,
    root,
  );
}

/**
 * Every problem with a parsed payload, each naming its field. An unknown top-level key is an
 * unknown report type; an unknown key below is an unknown field. An unknown schema version names
 * `schema_version`.
 */
export function reportPayloadViolations(
  schemaVersion: string,
  payload: unknown,
): ReportFieldViolation[] {
  const schema = REPORT_PAYLOAD_SCHEMAS[schemaVersion];
  if (!schema)
    return [
      {
        field: 'schema_version',
        description: `unknown schema version; known: ${Object.keys(REPORT_PAYLOAD_SCHEMAS).join(', ')}`,
      },
    ];
  const result = schema.safeParse(payload);
  if (result.success) return [];
  const violations: ReportFieldViolation[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys)
        violations.push({
          field: fieldPath('payload', [...issue.path, key]),
          description: issue.path.length === 0 ? 'unknown report type' : 'unknown field',
        });
    } else if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') {
      violations.push({ field: fieldPath('payload', issue.path), description: 'is required' });
    } else {
      violations.push({ field: fieldPath('payload', issue.path), description: issue.message });
    }
  }
  if (violations.length <= MAX_VIOLATIONS) return violations;
  return [
    ...violations.slice(0, MAX_VIOLATIONS),
    {
      field: 'payload',
      description: `${violations.length - MAX_VIOLATIONS} more problems not listed`,
    },
  ];
}

/** The envelope of a report as SubmitReport carries it, the part a signature covers with the payload. */
export interface ReportEnvelope {
  reportId: string;
  nodeCode: string;
  /** cinode.national.v1.ReportKind number. */
  kind: number;
  specialRequestId: string;
  periodStart: Date;
  periodEnd: Date;
  generatedAt: Date;
  schemaVersion: string;
  contentType: string;
  /** SHA-256 of the payload bytes, lower-case hex. */
  payloadSha256: string;
}

/**
 * The bytes a report's Ed25519 signature covers: the envelope, one `key=value` per line in a fixed
 * order, with the payload's SHA-256, under a domain-separation header. Signing the envelope too
 * means a valid signature cannot be replayed under another report id, node, period or kind.
 */
export function reportSigningMessage(envelope: ReportEnvelope): Buffer {
  const lines = [
    'cinode-national-report-signature-v1',
    `report_id=${envelope.reportId.toLowerCase()}`,
    `node_code=${envelope.nodeCode}`,
    `kind=${envelope.kind}`,
    `special_request_id=${envelope.specialRequestId}`,
    `period_start=${envelope.periodStart.toISOString()}`,
    `period_end=${envelope.periodEnd.toISOString()}`,
    `generated_at=${envelope.generatedAt.toISOString()}`,
    `schema_version=${envelope.schemaVersion}`,
    `content_type=${envelope.contentType}`,
    `payload_sha256=${envelope.payloadSha256.toLowerCase()}`,
  ];
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}
