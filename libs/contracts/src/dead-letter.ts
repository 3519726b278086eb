import { defineStream } from './contract';

export const DEAD_LETTER_SUBJECT_PREFIX = 'cinode.dlq';

/**
 * Parked messages, by consumer (`cinode.dlq.<consumer>`): long retention, since a person has to
 * look at them. Every service that consumes ensures it; no single service owns it.
 */
export const DEAD_LETTER_STREAM = defineStream({
  name: 'DLQ',
  subjects: [`${DEAD_LETTER_SUBJECT_PREFIX}.>`],
  owner: 'platform',
  description: 'Parked messages, by consumer',
  maxAgeMs: 30 * 24 * 3600 * 1000,
});

/** Dead-letter subject of one consumer. */
export function deadLetterSubject(consumer: string): string {
  return `${DEAD_LETTER_SUBJECT_PREFIX}.${consumer}`;
}
