import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@cinode/database';
import { ReportKind } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { ReportEntity } from '../reports/report.entity';

export interface ReceivedDaily {
  reportId: string;
  receivedAt: Date;
}

@Injectable()
export class ComplianceRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** A node's daily reports received in [from, to), oldest first. */
  async dailyReceived(nodeCode: string, from: Date, to: Date): Promise<ReceivedDaily[]> {
    const rows = await this.uow
      .manager()
      .getRepository(ReportEntity)
      .createQueryBuilder('r')
      .select(['r.reportId', 'r.receivedAt'])
      .where('r.node_code = :nodeCode', { nodeCode })
      .andWhere('r.kind = :kind', { kind: ReportKind.REPORT_KIND_DAILY })
      .andWhere('r.received_at >= :from AND r.received_at < :to', { from, to })
      .orderBy('r.received_at', 'ASC')
      .addOrderBy('r.report_id', 'ASC')
      .getMany();
    return rows.map((r) => ({ reportId: r.reportId, receivedAt: r.receivedAt }));
  }
}
