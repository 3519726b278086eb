export * from './data-source.factory';
export * from './migrations';
export * from './pool-metrics';
export * from './database.module';
