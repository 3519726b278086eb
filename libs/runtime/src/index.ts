export * from './service-main';
