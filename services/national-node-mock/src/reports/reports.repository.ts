import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { ReportEntity } from './report.entity';

export type NewReport = Omit<ReportEntity, 'receiptNumber' | 'receivedAt'>;

interface StoredReportRow {
  report_id: string;
  node_code: string;
  kind: number;
  special_request_id: string;
  period_start: Date;
  period_end: Date;
  generated_at: Date;
  schema_version: string;
  content_type: string;
  payload_size: number;
  payload_sha256: string;
  receipt_number: string;
  received_at: Date;
  signing_key_id: string;
  content_sha256: string;
}

@Injectable()
export class ReportsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Stores the report, numbering its receipt from a sequence, and returns it as stored; a special
   * report also answers its request when nothing answered it before (the first report stays the
   * answer). One statement: this is the path every report a node delivers takes.
   */
  async insert(tx: Tx, report: NewReport): Promise<ReportEntity> {
    const rows: StoredReportRow[] = await tx.manager.query(
      `WITH stored AS (
         INSERT INTO received_report
           (report_id, node_code, kind, special_request_id, period_start, period_end, generated_at,
            schema_version, content_type, payload, payload_size, payload_sha256, receipt_number,
            received_at, content_sha256, signing_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                 'RR' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
                      || lpad(nextval('received_report_seq')::text, 6, '0'),
                 date_trunc('milliseconds', now()), $13, $14)
         RETURNING report_id, node_code, kind, special_request_id, period_start, period_end,
                   generated_at, schema_version, content_type, payload_size, payload_sha256,
                   receipt_number, received_at, signing_key_id, content_sha256),
       answered AS (
         UPDATE special_report_request s
            SET answered_report_id = stored.report_id, answered_at = stored.received_at
           FROM stored
          WHERE stored.kind = 2 AND s.special_request_id = stored.special_request_id
            AND s.answered_at IS NULL)
       SELECT * FROM stored`,
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
    const row = rows[0];
    if (!row) throw new Error(`report ${report.reportId} was inserted but not returned`);
    return {
      reportId: row.report_id,
      nodeCode: row.node_code,
      kind: row.kind,
      specialRequestId: row.special_request_id,
      periodStart: row.period_start,
      periodEnd: row.period_end,
      generatedAt: row.generated_at,
      schemaVersion: row.schema_version,
      contentType: row.content_type,
      payload: report.payload,
      payloadSize: row.payload_size,
      payloadSha256: row.payload_sha256,
      receiptNumber: row.receipt_number,
      receivedAt: row.received_at,
      signingKeyId: row.signing_key_id,
      contentSha256: row.content_sha256,
    };
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
    ownerKeyId?: string,
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
    if (ownerKeyId !== undefined)
      query.andWhere(
        'r.node_code IN (SELECT node_code FROM national_node WHERE owner_key_id = :ownerKeyId)',
        { ownerKeyId },
      );
    if (after) {
      query.andWhere('(r.received_at, r.report_id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    }
    return query.getMany();
  }
}
