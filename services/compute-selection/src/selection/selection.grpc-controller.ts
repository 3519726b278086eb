import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ReadOnly } from '@cinode/audit';
import { AllowRoles } from '@cinode/auth';
import {
  PathKind,
  type GetIndexStatusResponse,
  type SelectRequest,
  type SelectResponse,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type { PathKindName } from '@cinode/selection';
import { SelectionService } from './selection.service';

const SERVICE = 'SelectionService';

const PATH_KINDS: Readonly<Record<PathKindName, PathKind>> = {
  none: PathKind.PATH_KIND_UNSPECIFIED,
  local: PathKind.PATH_KIND_LOCAL,
  line: PathKind.PATH_KIND_LINE,
  default: PathKind.PATH_KIND_DEFAULT,
};

@Controller()
export class SelectionGrpcController {
  constructor(private readonly selection: SelectionService) {}

  /** Answered synchronously from memory: no promise between the request and the ranking. */
  @GrpcMethod(SERVICE, 'Select')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  select(request: SelectRequest): SelectResponse {
    const result = this.selection.select(request.demand, request.weights, request.topK);
    const duration = request.demand?.durationHours ?? 0;
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
        totalPriceFen: c.priceFenPerHour * duration,
        score: c.score,
        breakdown: { ...c.breakdown },
        poolVersion: c.offer.version,
      })),
      matched: result.matched,
      considered: result.considered,
      eliminations: [...result.eliminations]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([constraint, pools]) => ({ constraint, pools })),
    };
  }

  @GrpcMethod(SERVICE, 'GetIndexStatus')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  getIndexStatus(): GetIndexStatusResponse {
    return this.selection.status();
  }
}
