export * from './assert';
export * from './errors';
export * from './field-checks';
export * from './pagination';
export * from './api-key';
export * from './canonical-json';
export * from './ids';
export * from './text';
