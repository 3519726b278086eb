import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { REPORT_CONTENT_TYPE } from '@cinode/contracts';
import { fromTimestamp, toTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type { ReportingConfig } from '../config';
import { NationalNodeGateway, type NationalNode } from '../national/national-node.gateway';
import { NodeIdentityService } from '../national/node-identity.service';
import {
  ReportsRepository,
  type ClaimedReport,
  type Settlement,
} from '../reports/reports.repository';
import { ReportSigner } from '../signing/report-signer';
import { BackgroundLoop } from '../schedule/loop';
import { retryDelayMs, verdictOf, type DeliveryVerdict } from './delivery-policy';

/**
 * Delivers the outbox: claims due reports, signs and submits each, and records the receipt or
 * the failure (retried with exponential backoff and jitter, without limit) per attempt. The
 * national node is idempotent on the report id, so a report sent twice (a lease that ran out, a
 * crash after the call) is still received once.
 */
@Injectable()
export class DeliverySender implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliverySender.name);
  private readonly loop: BackgroundLoop;
  /**
   * Whether reports may be waiting on a backoff grown while the national node failed; true at
   * start, since a process that starts cannot know how the last one's attempts ended.
   */
  private backlogWaits = true;

  constructor(
    @InjectConfig() private readonly config: ReportingConfig,
    private readonly reports: ReportsRepository,
    @Inject(NationalNodeGateway) private readonly nationalNode: NationalNode,
    private readonly identity: NodeIdentityService,
    private readonly signer: ReportSigner,
  ) {
    this.loop = new BackgroundLoop(
      'report sender',
      config.DELIVERY_POLL_MS,
      () => this.round().then(() => undefined),
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  wake(): void {
    this.loop.wake();
  }

  /**
   * How long a claim holds before another sender may take the report. Once the node is registered
   * an attempt is one submission, which ends by its deadline, and recording the outcome is one
   * short transaction; before that the registration calls (two more deadlines) come first. A
   * sender that dies mid-call leaves its reports to be taken again this much later. (Should a
   * registration lost at the national node make an attempt outlive its lease, another sender may
   * submit the report too: the national node is idempotent on the report id.)
   */
  private leaseMs(): number {
    const calls = this.identity.registered() ? 1 : 3;
    return calls * this.config.NATIONAL_NODE_TIMEOUT_MS + 5_000;
  }

  /**
   * One round: every due report sent once, the outcomes recorded in one transaction. When the
   * national node takes a whole round after failing, the reports waiting on their backoff are made
   * due at once: it is back, and the backlog drains now instead of at delays grown during the
   * outage. A round with failures as well (a flaky node) leaves the backoff alone. Exposed for tests.
   */
  async round(): Promise<number> {
    const claimed = await this.reports.claimDue(this.config.DELIVERY_BATCH_SIZE, this.leaseMs());
    if (claimed.length === 0) return 0;
    const settlements = await Promise.all(claimed.map((report) => this.attempt(report)));
    await this.reports.settleMany(settlements);
    const failed = settlements.filter((s) => s.outcome === 'failed');
    const delivered = settlements.filter((s) => s.outcome === 'delivered').length;
    let madeDue = 0;
    if (failed.length > 0) {
      this.backlogWaits = true;
      this.logFailures(failed);
    } else if (delivered > 0 && this.backlogWaits) {
      this.backlogWaits = false;
      madeDue = await this.reports.makeWaitingDue();
      if (madeDue > 0)
        this.logger.log(
          `the national node answers again: ${madeDue} waiting report(s) made due now`,
        );
    }
    if (claimed.length === this.config.DELIVERY_BATCH_SIZE || madeDue > 0) this.loop.wake();
    return claimed.length;
  }

  /**
   * The node code, registering the node and the signing key first if needed. A failure there is
   * the node's, never the report's: it is retried like an outage, whatever the status.
   */
  private async nodeCode(): Promise<string | { failed: DeliveryVerdict }> {
    try {
      return await this.identity.ensure();
    } catch (error) {
      const verdict = verdictOf(error);
      return {
        failed: {
          kind: 'retry',
          grpcStatus: verdict.grpcStatus,
          error: `registering the node and its signing key failed: ${verdict.error}`,
          reregister: false,
        },
      };
    }
  }

  /** One attempt of one report: signed, submitted, and what to record of it. */
  private async attempt(report: ClaimedReport): Promise<Settlement> {
    const nodeCode = await this.nodeCode();
    if (typeof nodeCode !== 'string') return this.retryLater(report, nodeCode.failed);
    const envelope = {
      reportId: report.reportId,
      nodeCode,
      kind: report.kind,
      specialRequestId: report.specialRequestId,
      periodStart: report.periodStart,
      periodEnd: report.periodEnd,
      generatedAt: report.generatedAt,
      schemaVersion: report.schemaVersion,
      contentType: REPORT_CONTENT_TYPE,
      payloadSha256: report.payloadSha256,
    };
    try {
      const { keyId, signature } = await this.signer.sign(envelope);
      const receipt = await this.nationalNode.submitReport({
        reportId: report.reportId,
        nodeCode,
        kind: report.kind,
        specialRequestId: report.specialRequestId,
        periodStart: toTimestamp(report.periodStart),
        periodEnd: toTimestamp(report.periodEnd),
        generatedAt: toTimestamp(report.generatedAt),
        schemaVersion: report.schemaVersion,
        contentType: REPORT_CONTENT_TYPE,
        payload: report.payload,
        signature,
        signingKeyId: keyId,
      });
      this.logger.log(
        `report ${report.reportId} delivered on attempt ${report.attempt}: receipt ${receipt.receiptNumber}`,
      );
      return {
        reportId: report.reportId,
        attempt: report.attempt,
        outcome: 'delivered',
        grpcStatus: 'OK',
        error: '',
        nextAttemptAt: null,
        receiptNumber: receipt.receiptNumber,
        receivedAt: receipt.receivedAt ? fromTimestamp(receipt.receivedAt) : new Date(),
      };
    } catch (error) {
      const verdict = verdictOf(error);
      if (verdict.kind === 'rejected') {
        this.logger.error(
          `the national node rejected report ${report.reportId} (${verdict.grpcStatus}): ${verdict.error}`,
        );
        return {
          reportId: report.reportId,
          attempt: report.attempt,
          outcome: 'rejected',
          grpcStatus: verdict.grpcStatus,
          error: verdict.error,
          nextAttemptAt: null,
          receiptNumber: null,
          receivedAt: null,
        };
      }
      if (verdict.reregister) this.identity.reset();
      return this.retryLater(report, verdict);
    }
  }

  private retryLater(report: ClaimedReport, verdict: DeliveryVerdict): Settlement {
    const delay = retryDelayMs(report.attempt, {
      initialMs: this.config.DELIVERY_RETRY_INITIAL_MS,
      maxMs: this.config.DELIVERY_RETRY_MAX_MS,
    });
    return {
      reportId: report.reportId,
      attempt: report.attempt,
      outcome: 'failed',
      grpcStatus: verdict.grpcStatus,
      error: verdict.error,
      nextAttemptAt: new Date(Date.now() + delay),
      receiptNumber: null,
      receivedAt: null,
    };
  }

  /** One warning per round, not per report: an outage fails every report of every round. */
  private logFailures(failed: readonly Settlement[]): void {
    const byStatus = new Map<string, number>();
    for (const f of failed)
      byStatus.set(f.grpcStatus || 'error', (byStatus.get(f.grpcStatus || 'error') ?? 0) + 1);
    const delays = failed.map((f) => (f.nextAttemptAt?.getTime() ?? Date.now()) - Date.now());
    this.logger.warn(
      `${failed.length} report(s) failed (${[...byStatus].map(([k, n]) => `${k} x${n}`).join(', ')}), ` +
        `next attempts in ${Math.max(0, Math.min(...delays))}-${Math.max(...delays)} ms: ${failed[0].error}`,
    );
  }
}
