import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { NodeEntity } from './node.entity';

export type NewNode = Omit<NodeEntity, 'nodeCode' | 'identifierPrefix' | 'registeredAt'>;

@Injectable()
export class NodesRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Inserts the node; its code comes from a sequence, so codes are never reused. */
  async insert(
    tx: Tx,
    node: NewNode,
    nationalPrefix: string,
    typeLetter: string,
  ): Promise<NodeEntity> {
    const rows: unknown[] = await tx.manager.query(
      `WITH code AS (SELECT $1::text || lpad(nextval('national_node_code_seq')::text, 4, '0') AS value)
       INSERT INTO national_node
         (node_code, identifier_prefix, node_key, name, node_type, region_code, operator_name, endpoint,
          registered_at, owner_key_id)
       SELECT code.value, $2::text || '.' || code.value, $3, $4, $5, $6, $7, $8,
              date_trunc('milliseconds', now()), $9 FROM code
       RETURNING node_code`,
      [
        typeLetter,
        nationalPrefix,
        node.nodeKey,
        node.name,
        node.nodeType,
        node.regionCode,
        node.operatorName,
        node.endpoint,
        node.ownerKeyId,
      ],
    );
    const code = (rows[0] as { node_code?: string } | undefined)?.node_code;
    const stored = code ? await this.findByCode(code, tx) : undefined;
    if (!stored) throw new Error(`node ${code} was inserted but cannot be read`);
    return stored;
  }

  async findByCode(nodeCode: string, tx?: Tx): Promise<NodeEntity | undefined> {
    return (
      (await this.uow.manager(tx).getRepository(NodeEntity).findOneBy({ nodeCode })) ?? undefined
    );
  }

  /** Binds a node registered before nodes were bound to the key of its next registration. */
  async adopt(nodeCode: string, ownerKeyId: string): Promise<void> {
    await this.uow
      .manager()
      .query(
        `UPDATE national_node SET owner_key_id = $2 WHERE node_code = $1 AND owner_key_id = ''`,
        [nodeCode, ownerKeyId],
      );
  }

  /**
   * One page in registration order (only the nodes of `ownerKeyId` when given); fetches one extra
   * row to know whether another page exists.
   */
  list(limit: number, after: PagePosition | undefined, ownerKeyId?: string): Promise<NodeEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(NodeEntity)
      .createQueryBuilder('n')
      .orderBy('n.registered_at', 'ASC')
      .addOrderBy('n.node_code', 'ASC')
      .limit(limit + 1);
    if (ownerKeyId !== undefined) query.andWhere('n.owner_key_id = :ownerKeyId', { ownerKeyId });
    if (after) {
      query.andWhere('(n.registered_at, n.node_code) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    }
    return query.getMany();
  }
}
