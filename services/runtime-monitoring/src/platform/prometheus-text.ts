/** gRPC codes that mean the server failed rather than refused the request. */
export const SERVER_ERROR_CODES = new Set([
  'INTERNAL',
  'UNKNOWN',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'DATA_LOSS',
  'UNIMPLEMENTED',
  'RESOURCE_EXHAUSTED',
]);

/** Services of the platform's plumbing, not the node's API (probes would swamp the counts). */
const PLUMBING = /^grpc\.(health|reflection)\./;

/** The API totals of one service, as its /metrics endpoint reads now (counters since its start). */
export interface ApiTotals {
  calls: number;
  errors: number;
  seconds: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string | undefined): Map<string, string> {
  const labels = new Map<string, string>();
  if (!text) return labels;
  for (const match of text.matchAll(LABEL)) labels.set(match[1], match[2]);
  return labels;
}

/**
 * Reads grpc_server_handled_total and grpc_server_handling_seconds_sum from Prometheus text
 * exposition (version 0.0.4), leaving out health checks and reflection. Lines it does not know are
 * skipped; a value that is no number counts as nothing.
 */
export function apiTotalsOf(text: string): ApiTotals {
  const totals: ApiTotals = { calls: 0, errors: 0, seconds: 0 };
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = LINE.exec(line.trim());
    if (!match) continue;
    const [, name, labelText, raw] = match;
    if (name !== 'grpc_server_handled_total' && name !== 'grpc_server_handling_seconds_sum')
      continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const labels = labelsOf(labelText);
    if (PLUMBING.test(labels.get('grpc_service') ?? '')) continue;
    if (name === 'grpc_server_handling_seconds_sum') {
      totals.seconds += value;
      continue;
    }
    totals.calls += value;
    if (SERVER_ERROR_CODES.has(labels.get('grpc_code') ?? '')) totals.errors += value;
  }
  return totals;
}

/**
 * What happened between two reads of a counter: the difference, or (the process restarted and its
 * counter began again) the whole new value. No earlier read: nothing is known yet.
 */
export function increment(previous: number | undefined, current: number): number {
  if (previous === undefined) return 0;
  return current >= previous ? current - previous : current;
}
