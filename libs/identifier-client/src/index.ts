export * from './filing';
export * from './identifier-issuer';
