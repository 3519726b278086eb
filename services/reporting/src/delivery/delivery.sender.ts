import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { REPORT_CONTENT_TYPE } from '@cinode/contracts';
import { fromTimestamp, toTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type { ReportingConfig } from '../config';
import { NationalNodeGateway, type NationalNode } from '../national/national-node.gateway';
import { NodeIdentityService } from '../national/node-identity.service';
import { ReportsRepository, type ClaimedReport } from '../reports/reports.repository';
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
export class DeliverySender implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliverySender.name);
  private readonly loop: BackgroundLoop;

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

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  wake(): void {
    this.loop.wake();
  }

  /**
   * How long a claim holds before another sender may take the report: the registration calls and
   * the submission each end by their deadline, and recording the outcome is one short transaction.
   * A sender that dies mid-call leaves its report to be taken again this much later.
   */
  private leaseMs(): number {
    return 3 * this.config.NATIONAL_NODE_TIMEOUT_MS + 5_000;
  }

  /** One round: every due report sent once. Exposed for tests. */
  async round(): Promise<number> {
    const claimed = await this.reports.claimDue(this.config.DELIVERY_BATCH_SIZE, this.leaseMs());
    await Promise.all(claimed.map((report) => this.deliver(report)));
    if (claimed.length === this.config.DELIVERY_BATCH_SIZE) this.loop.wake();
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

  private async deliver(report: ClaimedReport): Promise<void> {
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
      await this.reports.settle(report.reportId, report.attempt, 'delivered', {
        grpcStatus: 'OK',
        error: '',
        receiptNumber: receipt.receiptNumber,
        receivedAt: receipt.receivedAt ? fromTimestamp(receipt.receivedAt) : new Date(),
      });
      this.logger.log(
        `report ${report.reportId} delivered on attempt ${report.attempt}: receipt ${receipt.receiptNumber}`,
      );
    } catch (error) {
      const verdict = verdictOf(error);
      if (verdict.kind === 'rejected') {
        await this.reports.settle(report.reportId, report.attempt, 'rejected', verdict);
        this.logger.error(
          `the national node rejected report ${report.reportId} (${verdict.grpcStatus}): ${verdict.error}`,
        );
        return;
      }
      if (verdict.reregister) this.identity.reset();
      await this.retryLater(report, verdict);
    }
  }

  private async retryLater(report: ClaimedReport, verdict: DeliveryVerdict): Promise<void> {
    const delay = retryDelayMs(report.attempt, {
      initialMs: this.config.DELIVERY_RETRY_INITIAL_MS,
      maxMs: this.config.DELIVERY_RETRY_MAX_MS,
    });
    await this.reports.settle(report.reportId, report.attempt, 'failed', {
      grpcStatus: verdict.grpcStatus,
      error: verdict.error,
      nextAttemptAt: new Date(Date.now() + delay),
    });
    this.logger.warn(
      `report ${report.reportId} attempt ${report.attempt} failed (${verdict.grpcStatus || 'error'}), next in ${delay} ms: ${verdict.error}`,
    );
  }
}
