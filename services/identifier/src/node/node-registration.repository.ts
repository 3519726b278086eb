import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@cinode/database';
import { NodeRegistrationEntity } from './node-registration.entity';

export type NewNodeRegistration = Omit<NodeRegistrationEntity, 'id' | 'registeredAt'>;

/** The node's registration row; read and written outside any call, at start-up. */
@Injectable()
export class NodeRegistrationRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async find(): Promise<NodeRegistrationEntity | undefined> {
    return (
      (await this.uow.manager().getRepository(NodeRegistrationEntity).findOneBy({ id: 1 })) ??
      undefined
    );
  }

  /** Stores the registration unless one exists (another replica may have won); returns the stored row. */
  async saveIfAbsent(registration: NewNodeRegistration): Promise<NodeRegistrationEntity> {
    await this.uow.manager().query(
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
