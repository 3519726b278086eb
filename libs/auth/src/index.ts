export * from './authorizer';
export * from './auth.module';
export * from './decorators';
export * from './errors';
export * from './key-ring';
export * from './roles';
export * from './service-center-jwks';
export * from './tokens';
