export * from './auth';
export * from './grpc';
export * from './infra';
export { findFreePort } from '@cinode/local-infra';
export * from './service-process';
export * from './schema';
export * from './test-nats';
export * from './fake-unit-of-work';
