import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PagePosition } from '@cinode/common';
import { DataSource } from 'typeorm';
import { IdentifierFilingEntity } from './identifier-filing.entity';

export type NewFiling = Omit<IdentifierFilingEntity, 'filingNumber' | 'filedAt'>;

@Injectable()
export class FilingsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts the filing unless the identifier is filed already; undefined when it was. */
  async insertIfAbsent(filing: NewFiling): Promise<IdentifierFilingEntity | undefined> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO identifier_filing
         (identifier, filing_number, node_code, object_type, object_name, owner_name, owner_credit_code,
          attributes, allocated_at, filed_at, content_sha256)
       VALUES ($1, 'NF' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
                    || lpad(nextval('identifier_filing_seq')::text, 6, '0'),
               $2, $3, $4, $5, $6, $7, $8, date_trunc('milliseconds', now()), $9)
       ON CONFLICT (identifier) DO NOTHING
       RETURNING identifier`,
      [
        filing.identifier,
        filing.nodeCode,
        filing.objectType,
        filing.objectName,
        filing.ownerName,
        filing.ownerCreditCode,
        JSON.stringify(filing.attributes),
        filing.allocatedAt,
        filing.contentSha256,
      ],
    );
    return rows.length > 0 ? this.find(filing.identifier) : undefined;
  }

  async find(identifier: string): Promise<IdentifierFilingEntity | undefined> {
    return (
      (await this.dataSource.getRepository(IdentifierFilingEntity).findOneBy({ identifier })) ??
      undefined
    );
  }

  list(
    nodeCode: string,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<IdentifierFilingEntity[]> {
    const query = this.dataSource
      .getRepository(IdentifierFilingEntity)
      .createQueryBuilder('f')
      .orderBy('f.filed_at', 'ASC')
      .addOrderBy('f.identifier', 'ASC')
      .limit(limit + 1);
    if (nodeCode) query.andWhere('f.node_code = :nodeCode', { nodeCode });
    if (after) {
      query.andWhere('(f.filed_at, f.identifier) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    }
    return query.getMany();
  }
}
