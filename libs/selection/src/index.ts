// Matching demands to pools: the offer index compute-selection serves from, the full scan it must
// agree with, and Select's answer as it goes on the wire. A library so that the bench can time them
// in process.
export * from './demand';
export * from './fixtures';
export * from './latency';
export * from './line-table';
export * from './matcher';
export * from './offer';
export * from './offer-index';
export * from './random-demands';
export * from './select-response';
export * from './select-response.encoder';
