export * from './child-process';
export * from './containers';
export * from './embedded-postgres';
export * from './grpc-health';
export * from './nats-server';
export * from './ports';
export * from './postgres-admin';
export { removeDataDir } from './reachable-paths';
