export * from './console-output';
export * from './local-keys';
export * from './local-node';
export * from './local-secrets';
export * from './plan-node';
