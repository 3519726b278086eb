// A service-shaped data source for trying db-migration-generate.mjs (see README): the CLI loads it
// with DATABASE_URL pointing at a throwaway database.
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { createDataSource } from '@cinode/database';

@Entity({ name: 'gadget' })
export class Gadget {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_gadget' }) id!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export default createDataSource({
  url: process.env.DATABASE_URL ?? '',
  entities: [Gadget],
  migrations: [],
});
