import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { cstDateOf, type ReportPayloadV1 } from '@cinode/contracts';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp, toTimestamp } from '@cinode/grpc';
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
import { SecurityGateway, type SecurityEventsSource } from '../security/security.gateway';
import { securityInformationOf } from '../security/security-information';
import { DeliverySender } from '../delivery/delivery.sender';
import { NationalNodeGateway, type NationalNode } from '../national/national-node.gateway';
import { NodeIdentityService } from '../national/node-identity.service';
import type { NodeReportEntity } from '../reports/report.entity';
import { encodeReportPayload, pendingReport, type EncodedPayload } from '../reports/report-payload';
import { ReportsRepository } from '../reports/reports.repository';
import { BackgroundLoop } from '../schedule/loop';

/** Requests asked for per ListSpecialReportRequests call (the national node's maximum). */
const PAGE_SIZE = 500;
/** Pages one round reads at most, so a round ends even if the national node pages forever. */
const MAX_PAGES_PER_ROUND = 200;
/**
 * How far before the newest request seen a round starts listing: a request is listed once its issue
 * commits, which may be a moment after its issue time, so a little overlap catches a late commit.
 */
const OVERLAP_MS = 30_000;
/** Every this many rounds every open request is listed, whatever was seen before. */
const FULL_SWEEP_EVERY = 12;
/** How often a failure that lasts is logged again. */
const FAILURE_REMINDER_MS = 60_000;
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
export class SpecialRequestWatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SpecialRequestWatcher.name);
  private readonly loop: BackgroundLoop;
  private lastFailure = '';
  /** When the current failure was last logged, and how many rounds failed so since. */
  private lastFailureLoggedAt = 0;
  private failuresSinceLogged = 0;
  /** Issue time of the newest request listed so far (the national node's clock). */
  private newestIssuedAt: Date | undefined;
  private rounds = 0;

  constructor(
    @InjectConfig() private readonly config: ReportingConfig,
    private readonly uow: UnitOfWork,
    private readonly reports: ReportsRepository,
    @Inject(NationalNodeGateway) private readonly nationalNode: NationalNode,
    private readonly identity: NodeIdentityService,
    @Inject(ResourceAggregationGateway) private readonly compute: ComputeMapSource,
    private readonly sender: DeliverySender,
    @Inject(SecurityGateway) private readonly security: SecurityEventsSource,
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

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * A failing round (the national node away, most often) is one warning per cause, not a stack per
   * poll, and the warning again each FAILURE_REMINDER_MS while that cause lasts: a failure that
   * never ends must not look like one that ended in the log.
   */
  private async roundLogged(): Promise<void> {
    try {
      await this.round();
      if (this.lastFailure !== '')
        this.logger.log('looking for special report requests works again');
      this.lastFailure = '';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const now = performance.now();
      if (message !== this.lastFailure) {
        this.logger.warn(`looking for special report requests failed: ${message}`);
        this.lastFailureLoggedAt = now;
        this.failuresSinceLogged = 0;
      } else if (now - this.lastFailureLoggedAt >= FAILURE_REMINDER_MS) {
        this.logger.warn(
          `looking for special report requests still fails (${this.failuresSinceLogged + 1} more round(s) since the last warning): ${message}`,
        );
        this.lastFailureLoggedAt = now;
        this.failuresSinceLogged = 0;
      } else {
        this.failuresSinceLogged += 1;
      }
      this.lastFailure = message;
    }
  }

  /**
   * One round: every open request without a report gets one. The open requests are listed first,
   * then built a page per transaction: a national node that fails half-way through the listing
   * still has the requests listed before answered. Most rounds list only the requests issued since
   * shortly before the newest one seen, so a backlog of open requests (built here, not delivered
   * yet) is not listed again every few seconds; every FULL_SWEEP_EVERY-th round, and the first,
   * lists them all. Exposed for tests.
   */
  async round(): Promise<string[]> {
    const nodeCode = await this.identity.ensure();
    const sweep = this.rounds % FULL_SWEEP_EVERY === 0 || this.newestIssuedAt === undefined;
    this.rounds += 1;
    const issuedSince = sweep
      ? undefined
      : toTimestamp(new Date(this.newestIssuedAt!.getTime() - OVERLAP_MS));
    const fresh: SpecialReportRequest[] = [];
    let listingFailed: Error | undefined;
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES_PER_ROUND; page++) {
      let listed: { requests: SpecialReportRequest[]; nextPageToken: string };
      try {
        listed = await this.nationalNode.listSpecialReportRequests({
          nodeCode,
          state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
          issuedSince,
          pageSize: PAGE_SIZE,
          pageToken,
        });
      } catch (error) {
        listingFailed =
          error instanceof Error ? error : new Error(`listing failed: ${typeof error}`);
        break;
      }
      const known = await this.reports.answeredSpecialRequests(
        listed.requests.map((r) => r.specialRequestId),
      );
      fresh.push(...listed.requests.filter((r) => !known.has(r.specialRequestId)));
      for (const request of listed.requests) {
        const issuedAt = request.issuedAt ? fromTimestamp(request.issuedAt) : undefined;
        if (issuedAt && (!this.newestIssuedAt || issuedAt > this.newestIssuedAt))
          this.newestIssuedAt = issuedAt;
      }
      pageToken = listed.nextPageToken;
      if (!pageToken) break;
    }
    const built: string[] = [];
    if (fresh.length > 0) {
      const payloads = await this.payloads(fresh);
      for (let i = 0; i < fresh.length; i += PAGE_SIZE) {
        built.push(...(await this.build(fresh.slice(i, i + PAGE_SIZE), payloads)));
        this.sender.wake();
      }
      this.logger.log(`built ${built.length} special report(s)`);
    }
    if (listingFailed) throw listingFailed;
    return built;
  }

  /**
   * The payload of each request, by period: one snapshot of the node's compute for every report of
   * the round, and the attack events of each request's period. A security service that cannot be
   * asked fails the round (it throws) before anything is built: the requests stay unanswered and
   * the next round, SPECIAL_REQUEST_POLL_MS later, tries again. No report goes out with its
   * security section silently empty.
   */
  private async payloads(requests: SpecialReportRequest[]): Promise<Map<string, EncodedPayload>> {
    const map = await this.compute.computeMap();
    const computedAt = map.computedAt ? fromTimestamp(map.computedAt) : new Date();
    const compute = computeInformationOf(map, computedAt);
    const payloads = new Map<string, EncodedPayload>();
    for (const request of requests) {
      const period = periodKeyOf(request);
      if (payloads.has(period)) continue;
      const security = await securityInformationOf(
        this.security,
        fromTimestamp(request.periodStart!),
        fromTimestamp(request.periodEnd!),
      );
      if (security.leftOut > 0)
        this.logger.warn(
          `the special report of ${request.specialRequestId} carries the ${security.information.attack_events.length} most severe, then newest, attack events: ${security.leftOut} more left out`,
        );
      const payload: ReportPayloadV1 = {
        base: this.config.REPORT_BASE_INFO_JSON,
        compute,
        security: security.information,
      };
      payloads.set(period, encodeReportPayload(payload));
    }
    return payloads;
  }

  /** Writes one report per request to the outbox in one transaction; the ids inserted. */
  private build(
    requests: SpecialReportRequest[],
    payloads: ReadonlyMap<string, EncodedPayload>,
  ): Promise<string[]> {
    const generatedAt = new Date();
    const rows = requests.map((request): NodeReportEntity => {
      const payload = payloads.get(periodKeyOf(request));
      if (!payload) throw new Error(`no payload for ${request.specialRequestId}'s period`);
      return pendingReport(
        {
          kind: ReportKind.REPORT_KIND_SPECIAL,
          specialRequestId: request.specialRequestId,
          reportDate: cstDateOf(generatedAt),
          window: SPECIAL_WINDOW,
          periodStart: fromTimestamp(request.periodStart!),
          periodEnd: fromTimestamp(request.periodEnd!),
          generatedAt,
        },
        payload,
      );
    });
    return this.uow.run((tx) => this.reports.insertManyIfAbsent(tx, rows));
  }
}

/** Requests of one period share a payload. */
function periodKeyOf(request: SpecialReportRequest): string {
  return `${fromTimestamp(request.periodStart!).toISOString()}/${fromTimestamp(request.periodEnd!).toISOString()}`;
}
