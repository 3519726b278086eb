import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { REPORT_SCHEMA_VERSION, cstDateOf, type ReportPayloadV1 } from '@cinode/contracts';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import {
  ReportKind,
  SpecialRequestState,
  type SpecialReportRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { computeInformationOf } from '../compute/compute-information';
import {
  ResourceAggregationGateway,
  type ComputeMapSource,
} from '../compute/resource-aggregation.gateway';
import type { ReportingConfig } from '../config';
import { DeliverySender } from '../delivery/delivery.sender';
import { NationalNodeGateway, type NationalNode } from '../national/national-node.gateway';
import { NodeIdentityService } from '../national/node-identity.service';
import type { NodeReportEntity } from '../reports/report.entity';
import { encodeReportPayload, type EncodedPayload } from '../reports/report-payload';
import { ReportsRepository } from '../reports/reports.repository';
import { BackgroundLoop } from '../schedule/loop';

/** Requests asked for per ListSpecialReportRequests call (the national node's maximum). */
const PAGE_SIZE = 500;
/** Pages one round reads at most, so a round ends even if the national node pages forever. */
const MAX_PAGES_PER_ROUND = 200;
/** The `window` of a special report's entry: it answers a request, not a daily window. */
export const SPECIAL_WINDOW = 'special';

/**
 * Answers the national node's special report requests (特殊时间报送). Every SPECIAL_REQUEST_POLL_MS
 * it lists the node's open requests, and for each one with no report here builds the report (kind
 * SPECIAL, the request's period and id) into the outbox, a page per transaction; the sender
 * delivers it. The unique index on a special report's request id makes the build idempotent: a
 * restart, a slow round or a second replica never builds a second report for one request.
 */
@Injectable()
export class SpecialRequestWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SpecialRequestWatcher.name);
  private readonly loop: BackgroundLoop;
  private lastFailure = '';

  constructor(
    @InjectConfig() private readonly config: ReportingConfig,
    private readonly uow: UnitOfWork,
    private readonly reports: ReportsRepository,
    @Inject(NationalNodeGateway) private readonly nationalNode: NationalNode,
    private readonly identity: NodeIdentityService,
    @Inject(ResourceAggregationGateway) private readonly compute: ComputeMapSource,
    private readonly sender: DeliverySender,
  ) {
    this.loop = new BackgroundLoop(
      'special request watcher',
      config.SPECIAL_REQUEST_POLL_MS,
      () => this.roundLogged(),
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** A failing round (the national node away, most often) is one warning per cause, not a stack per poll. */
  private async roundLogged(): Promise<void> {
    try {
      await this.round();
      this.lastFailure = '';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastFailure)
        this.logger.warn(`looking for special report requests failed: ${message}`);
      this.lastFailure = message;
    }
  }

  /** One round: every open request without a report gets one. Exposed for tests. */
  async round(): Promise<string[]> {
    const nodeCode = await this.identity.ensure();
    const built: string[] = [];
    let payload: EncodedPayload | undefined;
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES_PER_ROUND; page++) {
      const listed = await this.nationalNode.listSpecialReportRequests({
        nodeCode,
        state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
        pageSize: PAGE_SIZE,
        pageToken,
      });
      const known = await this.reports.answeredSpecialRequests(
        listed.requests.map((r) => r.specialRequestId),
      );
      const fresh = listed.requests.filter((r) => !known.has(r.specialRequestId));
      if (fresh.length > 0) {
        // One snapshot of the node's compute for every report of the round.
        payload ??= await this.payload();
        const ids = await this.build(fresh, payload);
        built.push(...ids);
        this.sender.wake();
      }
      pageToken = listed.nextPageToken;
      if (!pageToken) break;
    }
    if (built.length > 0) this.logger.log(`built ${built.length} special report(s)`);
    return built;
  }

  private async payload(): Promise<EncodedPayload> {
    const map = await this.compute.computeMap();
    const computedAt = map.computedAt ? fromTimestamp(map.computedAt) : new Date();
    const payload: ReportPayloadV1 = {
      base: this.config.REPORT_BASE_INFO_JSON,
      compute: computeInformationOf(map, computedAt),
      // Attack events of the requested period: none until the security system feeds them.
      security: { attack_events: [] },
    };
    return encodeReportPayload(payload);
  }

  /** Writes one report per request to the outbox in one transaction; the ids inserted. */
  private build(requests: SpecialReportRequest[], payload: EncodedPayload): Promise<string[]> {
    const generatedAt = new Date();
    const rows = requests.map(
      (request): NodeReportEntity => ({
        reportId: randomUUID(),
        kind: ReportKind.REPORT_KIND_SPECIAL,
        specialRequestId: request.specialRequestId,
        reportDate: cstDateOf(generatedAt),
        window: SPECIAL_WINDOW,
        state: 'pending',
        periodStart: fromTimestamp(request.periodStart!),
        periodEnd: fromTimestamp(request.periodEnd!),
        generatedAt,
        schemaVersion: REPORT_SCHEMA_VERSION,
        payload: payload.bytes,
        payloadSha256: payload.sha256,
        payloadSize: payload.bytes.length,
        attempts: 0,
        nextAttemptAt: generatedAt,
        lastError: '',
        receiptNumber: null,
        receivedAt: null,
        deliveredAt: null,
        createdAt: generatedAt,
      }),
    );
    return this.uow.run((tx) => this.reports.insertManyIfAbsent(tx, rows));
  }
}
