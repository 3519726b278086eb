export * from './contract';
export * from './dead-letter';
export * from './identifier';
export * from './network';
export * from './participant';
export * from './resource';
export * from './market';
