import {
  PathKind,
  type SelectResponse,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type { PathKindName, SelectionResult } from './matcher';

export const PATH_KINDS: Readonly<Record<PathKindName, PathKind>> = {
  none: PathKind.PATH_KIND_UNSPECIFIED,
  local: PathKind.PATH_KIND_LOCAL,
  line: PathKind.PATH_KIND_LINE,
  default: PathKind.PATH_KIND_DEFAULT,
};

/** A selection as Select answers it; `durationHours` prices each candidate's whole run. */
export function selectResponseOf(result: SelectionResult, durationHours: number): SelectResponse {
  return {
    candidates: result.candidates.map((c) => ({
      poolId: c.offer.poolId,
      providerParticipantId: c.offer.providerParticipantId,
      regionCode: c.offer.regionCode,
      site: c.offer.site,
      path: {
        kind: PATH_KINDS[c.path],
        latencyMs: c.latencyMs,
        bandwidthMbps: c.bandwidthMbps,
        lineId: c.line?.lineId ?? '',
        linePriceFenPerHour: c.line?.priceFenPerHour ?? 0,
      },
      priceFenPerHour: c.priceFenPerHour,
      totalPriceFen: c.priceFenPerHour * durationHours,
      score: c.score,
      breakdown: { ...c.breakdown },
      poolVersion: c.offer.version,
    })),
    matched: result.matched,
    considered: result.considered,
    eliminations: [...result.eliminations]
      .sort(byPoolsThenConstraint)
      .map(([constraint, pools]) => ({ constraint, pools })),
  };
}

/**
 * Eliminations in answer order: most pools first, then by constraint name in code-unit order
 * (the names are ASCII; `localeCompare` gave the same order at a microsecond or more a comparison).
 */
export function byPoolsThenConstraint(a: [string, number], b: [string, number]): number {
  return eliminationOrder(a[1], a[0], b[1], b[0]);
}

/** The same order on an elimination's parts: negative when (poolsA, constraintA) comes first. */
export function eliminationOrder(
  poolsA: number,
  constraintA: string,
  poolsB: number,
  constraintB: string,
): number {
  return poolsB - poolsA || (constraintA < constraintB ? -1 : constraintA > constraintB ? 1 : 0);
}
