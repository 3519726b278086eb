import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ReportPayloadV1 } from '@cinode/contracts';
import { fromTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import { computeInformationOf } from '../compute/compute-information';
import {
  ResourceAggregationGateway,
  type ComputeMapSource,
} from '../compute/resource-aggregation.gateway';
import type { ReportingConfig } from '../config';
import { SecurityGateway, type SecurityEventsSource } from '../security/security.gateway';
import { securityInformationOf } from '../security/security-information';
import { encodeReportPayload, type EncodedPayload } from './report-payload';

/**
 * The content of one report, from the node as it is now: its compute (resource aggregation's
 * compute map), the attack events of the report's period (the security service) and the
 * operator's base information. A source that cannot be asked fails the build (it throws): no
 * report goes out with a section silently empty in its place.
 */
@Injectable()
export class ReportContent {
  private readonly logger = new Logger(ReportContent.name);

  constructor(
    @InjectConfig() private readonly config: ReportingConfig,
    @Inject(ResourceAggregationGateway) private readonly compute: ComputeMapSource,
    @Inject(SecurityGateway) private readonly security: SecurityEventsSource,
  ) {}

  /** The payload of a report covering [periodStart, periodEnd]; `what` names it in warnings. */
  async payload(periodStart: Date, periodEnd: Date, what: string): Promise<EncodedPayload> {
    const map = await this.compute.computeMap();
    const computedAt = map.computedAt ? fromTimestamp(map.computedAt) : new Date();
    const security = await securityInformationOf(this.security, periodStart, periodEnd);
    if (security.leftOut > 0)
      this.logger.warn(
        `${what} carries the ${security.information.attack_events.length} most severe, then newest, attack events: ${security.leftOut} more left out`,
      );
    const payload: ReportPayloadV1 = {
      base: this.config.REPORT_BASE_INFO_JSON,
      compute: computeInformationOf(map, computedAt),
      security: security.information,
    };
    return encodeReportPayload(payload);
  }
}
