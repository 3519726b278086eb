export * from './call-context';
export * from './call-pipeline.interceptor';
export * from './declarations.check';
export * from './load-shedder';
export * from './platform.module';
export * from './schema';
export * from './service-main';
export * from './transaction-hooks';
