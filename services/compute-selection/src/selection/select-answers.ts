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

/**
 * A Select request's key: every field, in the decoder's order. Two requests with the same key ask
 * the same question (a request spelt in another field order only misses the cache). Only a checked
 * request's answer is kept, and a checked request's numbers are finite, so no key of a kept answer
 * holds the `null` JSON writes for NaN or Infinity.
 */
export function selectRequestKey(request: SelectRequest): string {
  return JSON.stringify(request);
}
