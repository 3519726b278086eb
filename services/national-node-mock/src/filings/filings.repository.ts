import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { IdentifierFilingEntity } from './identifier-filing.entity';

export type NewFiling = Omit<IdentifierFilingEntity, 'filingNumber' | 'filedAt'>;

@Injectable()
export class FilingsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Inserts the filing, numbering it from a sequence. */
  async insert(tx: Tx, filing: NewFiling): Promise<IdentifierFilingEntity> {
    await tx.manager.query(
      `INSERT INTO identifier_filing
         (identifier, filing_number, node_code, object_type, object_name, owner_name, owner_credit_code,
          attributes, allocated_at, filed_at, content_sha256)
       VALUES ($1, 'NF' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
                    || lpad(nextval('identifier_filing_seq')::text, 6, '0'),
               $2, $3, $4, $5, $6, $7, $8, date_trunc('milliseconds', now()), $9)`,
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
    const stored = await this.find(filing.identifier, tx);
    if (!stored) throw new Error(`filing of ${filing.identifier} was inserted but cannot be read`);
    return stored;
  }

  async find(identifier: string, tx?: Tx): Promise<IdentifierFilingEntity | undefined> {
    return (
      (await this.uow
        .manager(tx)
        .getRepository(IdentifierFilingEntity)
        .findOneBy({ identifier })) ?? undefined
    );
  }

  list(
    nodeCode: string,
    limit: number,
    after: PagePosition | undefined,
    ownerKeyId?: string,
  ): Promise<IdentifierFilingEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(IdentifierFilingEntity)
      .createQueryBuilder('f')
      .orderBy('f.filed_at', 'ASC')
      .addOrderBy('f.identifier', 'ASC')
      .limit(limit + 1);
    if (nodeCode) query.andWhere('f.node_code = :nodeCode', { nodeCode });
    if (ownerKeyId !== undefined)
      query.andWhere(
        'f.node_code IN (SELECT node_code FROM national_node WHERE owner_key_id = :ownerKeyId)',
        { ownerKeyId },
      );
    if (after) {
      query.andWhere('(f.filed_at, f.identifier) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    }
    return query.getMany();
  }
}
