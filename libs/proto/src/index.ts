export * from './package-definition';
