import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NodeRegistrationEntity } from './node-registration.entity';

export type NewNodeRegistration = Omit<NodeRegistrationEntity, 'id' | 'registeredAt'>;

@Injectable()
export class NodeRegistrationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(): Promise<NodeRegistrationEntity | undefined> {
    return (
      (await this.dataSource.getRepository(NodeRegistrationEntity).findOneBy({ id: 1 })) ??
      undefined
    );
  }

  /** Stores the registration unless one exists (another replica may have won); returns the stored row. */
  async saveIfAbsent(registration: NewNodeRegistration): Promise<NodeRegistrationEntity> {
    await this.dataSource.query(
      `INSERT INTO node_registration (id, node_code, identifier_prefix, node_key, source, registered_at)
       VALUES (1, $1, $2, $3, $4, now()) ON CONFLICT (id) DO NOTHING`,
      [
        registration.nodeCode,
        registration.identifierPrefix,
        registration.nodeKey,
        registration.source,
      ],
    );
    const stored = await this.find();
    if (!stored) throw new Error('node registration vanished right after it was stored');
    return stored;
  }
}
