import { createTestDatabase } from '@cinode/testing';
import { Test } from '@nestjs/testing';
import { InjectRepository } from '@nestjs/typeorm';
import { Injectable } from '@nestjs/common';
import {
  Column,
  DataSource,
  Entity,
  MigrationInterface,
  PrimaryColumn,
  QueryRunner,
  Repository,
} from 'typeorm';
import { metricsRegistry } from '@cinode/telemetry';
import {
  DatabaseModule,
  createDataSource,
  readPoolFigures,
  refreshPoolMetrics,
  runMigrations,
} from '@cinode/database';

// The migration holds the transaction open for a moment so that two unsynchronised runners would
// both see it pending; with the advisory lock the second must wait and then find nothing to do.
class RecordRun1763900000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SELECT pg_sleep(0.5)`);
    await queryRunner.query(`INSERT INTO migration_runs (name) VALUES ('record_run')`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM migration_runs WHERE name = 'record_run'`);
  }
}

// Builds an index CONCURRENTLY, outside a transaction, after a moment in which the other replica
// starts waiting for the lock: the build waits for every snapshot older than its own.
class IndexRuns1763900000003 implements MigrationInterface {
  transaction = false;
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SELECT pg_sleep(0.5)`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_migration_runs ON migration_runs (name)`,
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS ix_migration_runs`);
  }
}

class CreateWidget1763900000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE widget (id integer PRIMARY KEY, name text NOT NULL)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE widget`);
  }
}

@Entity({ name: 'widget' })
class Widget {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'text' }) name!: string;
}

@Injectable()
class WidgetService {
  constructor(@InjectRepository(Widget) readonly widgets: Repository<Widget>) {}
}

async function prepare(url: string): Promise<void> {
  const ds = await createDataSource({ url, entities: [] }).initialize();
  await ds.query(`CREATE TABLE migration_runs (name text NOT NULL)`);
  // Creates the bookkeeping table up front, so the unlocked race below collides on the migration itself.
  await ds.runMigrations();
  await ds.destroy();
}

async function countRuns(url: string): Promise<{ runs: number; recorded: number }> {
  const ds = await createDataSource({ url, entities: [] }).initialize();
  try {
    const [runs] = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM migration_runs`);
    const [recorded] = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM migrations`);
    return { runs: runs.n, recorded: recorded.n };
  } finally {
    await ds.destroy();
  }
}

describe('runMigrations', () => {
  const sources: DataSource[] = [];
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((ds) => ds.destroy()));
  });

  async function replica(url: string): Promise<DataSource> {
    const ds = await createDataSource({
      url,
      entities: [Widget],
      migrations: [RecordRun1763900000001],
    }).initialize();
    sources.push(ds);
    return ds;
  }

  it('lets only one of two concurrent replicas apply a migration', async () => {
    const url = await createTestDatabase('db_migrate_lock');
    await prepare(url);
    const [a, b] = await Promise.all([replica(url), replica(url)]);

    const results = await Promise.all([
      runMigrations(a, 'test-lock'),
      runMigrations(b, 'test-lock'),
    ]);

    expect(results.map((r) => r.length).sort()).toEqual([0, 1]);
    expect(await countRuns(url)).toEqual({ runs: 1, recorded: 1 });
  });

  it('lets a replica build an index CONCURRENTLY while another waits for the lock', async () => {
    // A replica waiting inside pg_advisory_lock would hold a snapshot the build waits for, while
    // the build's replica holds the lock it waits for: neither would move until the waiter gave up.
    const url = await createTestDatabase('db_migrate_concurrently');
    await prepare(url);
    const replicaIndexing = async () => {
      const ds = await createDataSource({
        url,
        entities: [],
        migrations: [IndexRuns1763900000003],
      }).initialize();
      sources.push(ds);
      return ds;
    };
    const [a, b] = await Promise.all([replicaIndexing(), replicaIndexing()]);

    const results = await Promise.allSettled([
      runMigrations(a, 'test-lock-concurrently', { lockTimeoutMs: 5_000 }),
      runMigrations(b, 'test-lock-concurrently', { lockTimeoutMs: 5_000 }),
    ]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const applied = results.map((r) => (r.status === 'fulfilled' ? r.value.length : -1));
    expect(applied.sort()).toEqual([0, 1]);
  });

  it('without the lock the same race applies the migration twice (the test above can fail)', async () => {
    const url = await createTestDatabase('db_migrate_race');
    await prepare(url);
    const [a, b] = await Promise.all([replica(url), replica(url)]);

    await Promise.allSettled([
      a.runMigrations({ transaction: 'each' }),
      b.runMigrations({ transaction: 'each' }),
    ]);

    expect((await countRuns(url)).runs).toBe(2);
  });

  it('never synchronizes the schema', () => {
    const ds = createDataSource({ url: 'postgres://u:p@localhost:5432/x', entities: [Widget] });
    expect(ds.options.synchronize).toBe(false);
    expect(ds.options.migrationsRun).toBe(false);
  });
});

describe(DatabaseModule.name, () => {
  it('migrates on start, injects repositories and reports pool figures', async () => {
    const url = await createTestDatabase('db_module');
    await prepare(url);
    const moduleRef = await Test.createTestingModule({
      imports: [
        DatabaseModule.forRoot({
          url,
          entities: [Widget],
          migrations: [RecordRun1763900000001, CreateWidget1763900000002],
          migrateOnStart: true,
        }),
        DatabaseModule.forFeature([Widget]),
      ],
      providers: [WidgetService],
    }).compile();
    const app = await moduleRef.init();
    try {
      const service = app.get(WidgetService);
      await service.widgets.save({ id: 1, name: 'first' });
      expect(await service.widgets.findOneByOrFail({ id: 1 })).toEqual({ id: 1, name: 'first' });

      const figures = readPoolFigures(app.get(DataSource));
      expect(figures?.total).toBeGreaterThanOrEqual(1);
      refreshPoolMetrics();
      const metric = await metricsRegistry.getSingleMetricAsString('cinode_db_pool_connections');
      expect(metric).toMatch(/cinode_db_pool_connections\{state="total"\} [1-9]/);
    } finally {
      await app.close();
    }
    expect(await countRuns(url)).toEqual({ runs: 1, recorded: 2 });
  });
});
