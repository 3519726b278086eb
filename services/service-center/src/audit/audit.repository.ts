import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditRecordEntity } from './audit-record.entity';

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(record: AuditRecordEntity): Promise<void> {
    await this.dataSource.getRepository(AuditRecordEntity).insert(record);
  }

  findByObject(objectType: string, objectId: string): Promise<AuditRecordEntity[]> {
    return this.dataSource
      .getRepository(AuditRecordEntity)
      .find({ where: { objectType, objectId }, order: { occurredAt: 'ASC' } });
  }
}
