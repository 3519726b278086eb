import {
  DynamicModule,
  Inject,
  Injectable,
  InjectionToken,
  Module,
  ModuleMetadata,
  OnApplicationShutdown,
  OnModuleInit,
  OptionalFactoryDependency,
} from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseConnectionOptions, buildDataSourceOptions } from './data-source.factory';
import { runMigrations } from './migrations';
import { observePoolMetrics } from './pool-metrics';
import { TransactionExtensions, UnitOfWork } from './unit-of-work';

export interface DatabaseModuleOptions extends DatabaseConnectionOptions {
  /** Run pending migrations (under the advisory lock) before the data source is handed out. */
  migrateOnStart?: boolean;
  /** Advisory-lock name for migrations; defaults to the database name from the URL. */
  migrationLockName?: string;
  /** Attempts to connect at start-up before giving up (default 3; Nest's own default is 10). */
  retryAttempts?: number;
}

export interface DatabaseModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => DatabaseModuleOptions | Promise<DatabaseModuleOptions>;
}

export function migrationLockNameFor(url: string): string {
  const database = new URL(url).pathname.replace(/^\//, '');
  return `migrations:${database}`;
}

@Injectable()
class PoolMetricsLifecycle implements OnModuleInit, OnApplicationShutdown {
  private stop?: () => void;

  constructor(@Inject(getDataSourceToken()) private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.stop = observePoolMetrics(this.dataSource);
  }

  onApplicationShutdown(): void {
    this.stop?.();
  }
}

/**
 * One database per service: `DatabaseModule.forRoot(...)` once (the platform module does it), then
 * inject UnitOfWork anywhere: `uow.run(tx => ...)` for changes, repositories taking the Tx.
 */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return DatabaseModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: DatabaseModuleAsyncOptions): DynamicModule {
    // The extra options (migrateOnStart, lock name) are not TypeORM options; the factory closure carries
    // them from useFactory to dataSourceFactory, both of which Nest calls once per module instance.
    let resolved: DatabaseModuleOptions | undefined;
    const typeorm = TypeOrmModule.forRootAsync({
      imports: options.imports,
      inject: options.inject,
      useFactory: async (...args: unknown[]) => {
        // Nest resolves `inject` into these arguments; their types are the caller's factory's business.
        resolved = await options.useFactory(...(args as never[]));
        return {
          ...buildDataSourceOptions(resolved),
          retryAttempts: resolved.retryAttempts ?? 3,
          retryDelay: 1_000,
        };
      },
      dataSourceFactory: async (dataSourceOptions) => {
        if (!dataSourceOptions || !resolved)
          throw new Error('DatabaseModule: options were not resolved');
        const dataSource = await new DataSource(dataSourceOptions).initialize();
        if (resolved.migrateOnStart) {
          try {
            await runMigrations(
              dataSource,
              resolved.migrationLockName ?? migrationLockNameFor(resolved.url),
            );
          } catch (error) {
            await dataSource.destroy();
            throw error;
          }
        }
        return dataSource;
      },
    });
    return {
      module: DatabaseModule,
      global: true,
      imports: [typeorm],
      providers: [PoolMetricsLifecycle, TransactionExtensions, UnitOfWork],
      exports: [typeorm, TransactionExtensions, UnitOfWork],
    };
  }

  static forFeature(entities: Parameters<typeof TypeOrmModule.forFeature>[0]): DynamicModule {
    return TypeOrmModule.forFeature(entities);
  }
}
