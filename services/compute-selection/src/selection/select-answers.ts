import type { EncodedResponse } from '@cinode/grpc';
import type { SelectRequest } from '@cinode/proto/gen/cinode/selection/v1/selection_service';

/** Answers kept at most; past it the oldest goes. */
export const SELECT_ANSWERS_MAX = 1_024;

/**
 * Select's encoded answers by request, for as long as neither the pools nor the lines change: the
 * answer to a demand depends on nothing else (the latency model is fixed at start), so an answer
 * of the same generation is the very answer a new search would give. Any change to the index or the
 * line table starts a new generation and drops every answer, so none is ever stale. Only answers
 * are kept, never refusals.
 */
export class SelectAnswers {
  private readonly answers = new Map<string, EncodedResponse>();
  private indexVersion = -1;
  private linesVersion = -1;

  constructor(private readonly max = SELECT_ANSWERS_MAX) {}

  get size(): number {
    return this.answers.size;
  }

  /** Whether any answer is kept at all (SELECT_ANSWER_CACHE_SIZE above 0). */
  get enabled(): boolean {
    return this.max > 0;
  }

  /** The answer to this request worked out at these versions, if any is kept. */
  get(key: string, indexVersion: number, linesVersion: number): EncodedResponse | undefined {
    if (indexVersion !== this.indexVersion || linesVersion !== this.linesVersion) {
      this.answers.clear();
      this.indexVersion = indexVersion;
      this.linesVersion = linesVersion;
      return undefined;
    }
    return this.answers.get(key);
  }

  /** Keeps an answer worked out at the versions of the last `get`. */
  set(key: string, answer: EncodedResponse): void {
    if (this.max <= 0) return;
    if (this.answers.size >= this.max) {
      const oldest = this.answers.keys().next();
      if (!oldest.done) this.answers.delete(oldest.value);
    }
    this.answers.set(key, answer);
  }
}

/** Between fields: a control character, which no string of a request that reaches a handler has. */
const SEP = '\u0001';

/**
 * A Select request's key: every field of it, in order, between separators no string field can
 * hold (the platform refuses control characters before the handler runs), so two requests have the
 * same key only when they ask the same question. Written out field by field: a quarter of the cost
 * of JSON.stringify, on every call. The spec checks that every field of the messages changes it.
 */
export function selectRequestKey(request: SelectRequest): string {
  const d = request.demand;
  if (!d) return '';
  const w = request.weights;
  return (
    `${request.topK}${SEP}${d.poolClass}${SEP}${d.acceleratorModel}${SEP}${d.acceleratorCount}` +
    `${SEP}${d.fp16Tflops}${SEP}${d.fp32Tflops}${SEP}${d.cpuCores}${SEP}${d.memoryGib}` +
    `${SEP}${d.storageGib}${SEP}${d.durationHours}${SEP}${d.allowedRegions.join(SEP)}` +
    `${SEP}${d.allowedRegions.length}${SEP}${d.userRegionCode}${SEP}${d.userSite}` +
    `${SEP}${d.maxLatencyMs}${SEP}${d.minBandwidthMbps}${SEP}${d.maxPriceFenPerHour}` +
    `${SEP}${d.minSecurityLevel}${SEP}${d.minRenewableRatio}${SEP}${d.domesticOnly}` +
    (w
      ? `${SEP}${w.price}${SEP}${w.latency}${SEP}${w.computeEfficiency}${SEP}${w.carbonEfficiency}${SEP}${w.security}`
      : `${SEP}-`)
  );
}
