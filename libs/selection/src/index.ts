// Matching demands to pools: the offer index compute-selection serves from, and the full scan it
// must agree with. A library so that the bench can time them in process.
export * from './demand';
export * from './fixtures';
export * from './latency';
export * from './line-table';
export * from './matcher';
export * from './offer';
export * from './offer-index';
export * from './random-demands';
