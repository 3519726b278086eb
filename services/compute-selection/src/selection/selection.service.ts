import { Injectable } from '@nestjs/common';
import { UnavailableError } from '@cinode/common';
import { EncodedResponse } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import {
  type Demand,
  type SelectRequest,
  type Weights,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type { ComputeSelectionConfig } from '../config';
import { ErrorReason } from '../errors';
import { LineFollower } from '../lines/line-follower.service';
import { IndexFollower } from '../offers/index-follower.service';
import {
  LatencyModel,
  checkSelectRequest,
  encodeSelectResponse,
  parseProvinceMatrix,
  type SelectionResult,
} from '@cinode/selection';
import { SelectAnswers, selectRequestKey } from './select-answers';

@Injectable()
export class SelectionService {
  private readonly latency: LatencyModel;
  private readonly answers: SelectAnswers;

  constructor(
    private readonly follower: IndexFollower,
    private readonly lines: LineFollower,
    @InjectConfig() config: ComputeSelectionConfig,
  ) {
    this.answers = new SelectAnswers(config.SELECT_ANSWER_CACHE_SIZE);
    this.latency = new LatencyModel({
      sameRegionMs: config.LATENCY_SAME_REGION_MS,
      sameProvinceMs: config.LATENCY_SAME_PROVINCE_MS,
      defaultMs: config.LATENCY_DEFAULT_MS,
      provincePairs: parseProvinceMatrix(config.LATENCY_PROVINCE_MATRIX),
    });
  }

  /**
   * Select's answer, encoded with the generated encoder. A request asked before, while neither the
   * pools nor the lines have changed since, gets the answer kept then (see SelectAnswers).
   */
  answer(request: SelectRequest): EncodedResponse {
    // No key (it costs a pass over the request) when no answer can be kept.
    const ready = this.answers.enabled && this.follower.ready && this.lines.ready;
    const key = ready ? selectRequestKey(request) : '';
    if (ready) {
      const kept = this.answers.get(key, this.follower.index.version, this.lines.table.version);
      if (kept) return kept;
    }
    const result = this.select(request.demand, request.weights, request.topK);
    const answer = EncodedResponse.of(
      encodeSelectResponse(result, request.demand?.durationHours ?? 0),
    );
    if (ready) this.answers.set(key, answer);
    return answer;
  }

  select(demand: Demand | undefined, weights: Weights | undefined, topK: number): SelectionResult {
    const checked = checkSelectRequest(demand, weights, topK);
    // Both pools and lines, or an answer could miss the paths (or pools) it should have.
    if (!this.follower.ready || !this.lines.ready)
      throw new UnavailableError(
        ErrorReason.INDEX_NOT_READY,
        'the offer index is still being built; retry shortly',
        { retryAfterSeconds: 1 },
      );
    return this.follower.index.select(
      checked.demand,
      checked.weights,
      checked.topK,
      this.latency,
      this.lines.table,
    );
  }

  status(): {
    ready: boolean;
    pools: number;
    selectable: number;
    lastSequence: number;
    lines: number;
    usableLines: number;
  } {
    const { index, lastSequence } = this.follower;
    const { table } = this.lines;
    return {
      ready: this.follower.ready && this.lines.ready,
      pools: index.size,
      selectable: index.selectable,
      lastSequence,
      lines: table.size,
      usableLines: table.usable,
    };
  }
}
