import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { ReportEntity } from './report.entity';

export type NewReport = Omit<ReportEntity, 'receiptNumber' | 'receivedAt'>;

@Injectable()
export class ReportsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Stores the report, numbering its receipt from a sequence. */
  async insert(tx: Tx, report: NewReport): Promise<ReportEntity> {
    await tx.manager.query(
      `INSERT INTO received_report
         (report_id, node_code, kind, special_request_id, period_start, period_end, generated_at,
          schema_version, content_type, payload, payload_size, payload_sha256, receipt_number,
          received_at, content_sha256, signing_key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
               'RR' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
                    || lpad(nextval('received_report_seq')::text, 6, '0'),
               date_trunc('milliseconds', now()), $13, $14)`,
      [
        report.reportId,
        report.nodeCode,
        report.kind,
        report.specialRequestId,
        report.periodStart,
        report.periodEnd,
        report.generatedAt,
        report.schemaVersion,
        report.contentType,
        report.payload,
        report.payloadSize,
        report.payloadSha256,
        report.contentSha256,
        report.signingKeyId,
      ],
    );
    const stored = await this.find(report.reportId, false, tx);
    if (!stored) throw new Error(`report ${report.reportId} was inserted but cannot be read`);
    return stored;
  }

  async find(reportId: string, withPayload: boolean, tx?: Tx): Promise<ReportEntity | undefined> {
    const query = this.uow
      .manager(tx)
      .getRepository(ReportEntity)
      .createQueryBuilder('r')
      .where('r.report_id = :reportId', { reportId });
    if (withPayload) query.addSelect('r.payload');
    return (await query.getOne()) ?? undefined;
  }

  list(
    nodeCode: string,
    kind: number,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<ReportEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(ReportEntity)
      .createQueryBuilder('r')
      .orderBy('r.received_at', 'ASC')
      .addOrderBy('r.report_id', 'ASC')
      .limit(limit + 1);
    if (nodeCode) query.andWhere('r.node_code = :nodeCode', { nodeCode });
    if (kind) query.andWhere('r.kind = :kind', { kind });
    if (after) {
      query.andWhere('(r.received_at, r.report_id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    }
    return query.getMany();
  }
}
