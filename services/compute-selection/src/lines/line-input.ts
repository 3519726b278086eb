import { FieldChecks, NotFoundError } from '@cinode/common';
import { SITE_PATTERN } from '@cinode/selection';
import type { LineEndpoint, LineSpec } from '@cinode/proto/gen/cinode/selection/v1/line_service';
import { ErrorReason } from '../errors';

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** A line identifier: national prefix, node code, object type LN, serial, check character. */
export const LINE_IDENTIFIER = /^[A-Z]{2,8}\.[RI]\d{4}\.LN\.\d{8}[0-9A-Z]$/;
const REGION_PATTERN = /^\d{6}$/;
/** 1 Pbit/s: above any real line. */
const MAX_BANDWIDTH_MBPS = 1_000_000_000;
/** 10 million yuan an hour, far below 2^53. */
const MAX_PRICE_FEN = 1_000_000_000;
const MAX_LATENCY_MS = 60_000;

/** What a line provider states about a line, checked. */
export interface CheckedLineSpec {
  name: string;
  aRegionCode: string;
  aSite: string;
  bRegionCode: string;
  bSite: string;
  bandwidthMbpsTotal: number;
  bandwidthMbpsFree: number;
  latencyMs: number;
  priceFenPerHour: number;
  availability: number;
  outOfService: boolean;
}

function checkEndpoint(checks: FieldChecks, field: string, endpoint: LineEndpoint | undefined) {
  if (!endpoint) {
    checks.add(field, 'is required');
    return;
  }
  checks
    .text(`${field}.region_code`, endpoint.regionCode, {
      max: 6,
      pattern: REGION_PATTERN,
      patternHint: 'must be a six-digit administrative division code',
    })
    .text(`${field}.site`, endpoint.site, {
      max: 64,
      pattern: SITE_PATTERN,
      patternHint: "must be letters, digits, '.', '_' or '-'",
    });
}

function whole(checks: FieldChecks, field: string, value: number, min: number, max: number) {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    checks.add(field, `must be a whole number between ${min} and ${max}`);
}

/** Checks the numbers of a line (at registration, and after an update merged them). */
export function checkLineFigures(
  checks: FieldChecks,
  line: Pick<
    CheckedLineSpec,
    'bandwidthMbpsTotal' | 'bandwidthMbpsFree' | 'latencyMs' | 'priceFenPerHour' | 'availability'
  >,
): void {
  whole(checks, 'spec.bandwidth_mbps_total', line.bandwidthMbpsTotal, 1, MAX_BANDWIDTH_MBPS);
  whole(checks, 'spec.bandwidth_mbps_free', line.bandwidthMbpsFree, 0, MAX_BANDWIDTH_MBPS);
  if (line.bandwidthMbpsFree > line.bandwidthMbpsTotal)
    checks.add('spec.bandwidth_mbps_free', 'must not exceed spec.bandwidth_mbps_total');
  whole(checks, 'spec.latency_ms', line.latencyMs, 0, MAX_LATENCY_MS);
  whole(checks, 'spec.price_fen_per_hour', line.priceFenPerHour, 0, MAX_PRICE_FEN);
  if (!Number.isFinite(line.availability) || line.availability <= 0 || line.availability > 1)
    checks.add('spec.availability', 'must be a ratio above 0 and at most 1');
}

/** Checks a registration's spec; every violation is named `spec.*`. Undefined when it has any. */
export function checkLineSpec(
  spec: LineSpec | undefined,
  checks: FieldChecks,
): CheckedLineSpec | undefined {
  if (!spec) {
    checks.add('spec', 'is required');
    return undefined;
  }
  const name = spec.name.trim();
  checks.text('spec.name', name, { max: 200 });
  checkEndpoint(checks, 'spec.endpoint_a', spec.endpointA);
  checkEndpoint(checks, 'spec.endpoint_b', spec.endpointB);
  if (
    spec.endpointA &&
    spec.endpointB &&
    spec.endpointA.regionCode === spec.endpointB.regionCode &&
    spec.endpointA.site === spec.endpointB.site
  )
    checks.add('spec.endpoint_b', 'must be another site than spec.endpoint_a');
  const checked: CheckedLineSpec = {
    name,
    aRegionCode: spec.endpointA?.regionCode ?? '',
    aSite: spec.endpointA?.site ?? '',
    bRegionCode: spec.endpointB?.regionCode ?? '',
    bSite: spec.endpointB?.site ?? '',
    bandwidthMbpsTotal: spec.bandwidthMbpsTotal,
    bandwidthMbpsFree: spec.bandwidthMbpsFree,
    latencyMs: spec.latencyMs,
    priceFenPerHour: spec.priceFenPerHour,
    availability: spec.availability,
    outOfService: spec.outOfService,
  };
  checkLineFigures(checks, checked);
  return checks.ok ? checked : undefined;
}

/** A line id in canonical upper case, or INVALID_ARGUMENT naming `field`. */
export function lineIdOf(value: string, field = 'line_id'): string {
  const canonical = value.trim().toUpperCase();
  new FieldChecks()
    .text(field, canonical, {
      max: 64,
      pattern: LINE_IDENTIFIER,
      patternHint: 'must be a line identifier (object type LN)',
    })
    .throwIfAny();
  return canonical;
}

export function lineNotFound(lineId: string): NotFoundError {
  return new NotFoundError(ErrorReason.LINE_NOT_FOUND, `line ${lineId} does not exist`);
}
