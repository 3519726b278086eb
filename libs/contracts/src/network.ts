import { z } from 'zod';
import { defineEvent, defineEventSource, defineStream, textOf } from './contract';

/** Compute selection's stream: the dedicated lines of the network side of system C. */
export const NETWORK_STREAM = defineStream({
  name: 'NETWORK',
  subjects: ['cinode.network.>'],
  owner: 'compute-selection',
  description: 'Dedicated lines: registration, filing, capacity and service (compute selection)',
});

export const LINE_STATES = ['pending_filing', 'active', 'out_of_service', 'suspended'] as const;
export type LineStateName = (typeof LINE_STATES)[number];

const count = z.number().int().nonnegative().safe();

/** One end of a line: a site in a region. A line serves both directions. */
export const lineEndpointData = z.object({
  regionCode: z.string().regex(/^\d{6}$/),
  site: textOf(1, 64),
});
export type LineEndpointData = z.infer<typeof lineEndpointData>;

/**
 * A dedicated line as of `version`: every line event carries the whole of it, so each replica of
 * compute selection keeps a line current by applying the newest version it has seen.
 */
export const lineData = z.object({
  lineId: textOf(1, 64),
  /** Per-line sequence: 1 at registration, one more for each change after. */
  version: z.number().int().positive().safe(),
  providerParticipantId: textOf(1, 128),
  name: textOf(1, 200),
  endpointA: lineEndpointData,
  endpointB: lineEndpointData,
  bandwidthMbpsTotal: count,
  bandwidthMbpsFree: count,
  /**
   * Held or used by this node's orders (line holds); selection offers free less this. Absent in
   * events of replicas older than line holds: none reserved.
   */
  bandwidthMbpsReserved: count.default(0),
  latencyMs: z.number().int().min(0).max(60_000),
  /** fen per hour; 0 when the line is not charged separately. */
  priceFenPerHour: count,
  availability: z.number().gt(0).max(1),
  state: z.enum(LINE_STATES),
});
export type LineData = z.infer<typeof lineData>;

const lineEvent = <const T extends string>(type: T, description: string) =>
  defineEvent({ type, stream: NETWORK_STREAM, schemaVersion: 1, schema: lineData, description });

export const LineRegistered = lineEvent(
  'cinode.network.line.registered',
  'A line provider registered a dedicated line; its identifier waits for filing.',
);
export const LineUpdated = lineEvent(
  'cinode.network.line.updated',
  'A line changed: filed, suspended, new bandwidth, latency, price, or in or out of service.',
);

/** Every line event, for the replicas of compute selection that keep lines in memory. */
export const LineChanges = defineEventSource({
  stream: NETWORK_STREAM,
  filterSubject: 'cinode.network.line.>',
  events: [LineRegistered, LineUpdated],
});
