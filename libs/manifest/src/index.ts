export * from './json-schema';
export * from './load-manifests';
export * from './manifest-validation';
export * from './service-manifest';
export * from './topology';
