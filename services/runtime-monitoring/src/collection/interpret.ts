import type {
  AllocationData,
  DemandSubmittedData,
  IdentifierIssuedData,
  MonitoringDomainName,
  OrderEventData,
  ParticipantEventData,
  PoolData,
} from '@cinode/contracts';
import type { FeedEntry } from '../feed/feed-entry';
import { observe, type Observation } from '../series/metrics';

/**
 * What monitoring makes of one event, decided here without I/O (the consumers load what came
 * before and store what this returns): observations for the series, entries for the feed, and the
 * projection rows to keep.
 */
export interface Interpretation {
  observations: Observation[];
  feed: FeedEntry[];
}

/** The envelope fields an interpretation needs. */
export interface EventMeta {
  id: string;
  type: string;
  /** The producer's time of the event. */
  time: Date;
}

const NONE = 'none';

/** Model of a pool's first accelerator, `none` for a CPU pool. */
export function acceleratorOf(pool: Pick<PoolData, 'accelerators'>): string {
  return pool.accelerators[0]?.model ?? NONE;
}

function entry(
  meta: EventMeta,
  domain: MonitoringDomainName,
  objectId: string,
  regionCode: string,
  summary: string,
): FeedEntry {
  return {
    eventId: meta.id,
    domain,
    type: meta.type,
    regionCode,
    objectId,
    summary: summary.slice(0, 500),
    occurredAt: meta.time,
  };
}

/** The newest known state of a pool. */
export interface PoolState {
  poolId: string;
  version: number;
  state: string;
  regionCode: string;
  accelerator: string;
  cpuCoresTotal: number;
  cpuCoresFree: number;
  gpuCardsTotal: number;
  gpuCardsFree: number;
  npuCardsTotal: number;
  npuCardsFree: number;
  fp16TflopsTotal: number;
  fp16TflopsFree: number;
  faultSince: Date | null;
  updatedAt: Date;
}

const FAULT_STATES = new Set(['stale', 'offline']);

/**
 * A pool event against the pool's previous state: the new state (undefined when the event is older
 * than what is known), the faults discovered and recovered, and a feed entry for every change of
 * state (inventory updates are counted by the samples, not fed).
 */
export function interpretPool(
  meta: EventMeta,
  pool: PoolData,
  previous: PoolState | undefined,
): Interpretation & { next?: PoolState } {
  if (previous && previous.version >= pool.version) return { observations: [], feed: [] };
  const dims = { regionCode: pool.regionCode, accelerator: acceleratorOf(pool) };
  const observations: Observation[] = [];
  const feed: FeedEntry[] = [];
  let faultSince = previous?.faultSince ?? null;
  const before = previous?.state;
  const after = pool.state;
  if (!previous) {
    observations.push(observe('pools_registered', dims, meta.time));
  }
  if (before !== after) {
    // A fault is a pool in service that stopped reporting; one still waiting for its filing is not
    // in service yet.
    if (FAULT_STATES.has(after) && !faultSince && before === 'online') {
      faultSince = meta.time;
      if (pool.lastReportedAt)
        observations.push(
          observe(
            'fault_discovery_ms',
            dims,
            meta.time,
            Math.max(0, meta.time.getTime() - Date.parse(pool.lastReportedAt)),
          ),
        );
    }
    if (after === 'stale') observations.push(observe('pools_went_stale', dims, meta.time));
    if (after === 'offline') observations.push(observe('pools_went_offline', dims, meta.time));
    if (after === 'online' && faultSince) {
      observations.push(observe('pools_recovered', dims, meta.time));
      observations.push(
        observe(
          'fault_recovery_ms',
          dims,
          meta.time,
          Math.max(0, meta.time.getTime() - faultSince.getTime()),
        ),
      );
    }
    if (!FAULT_STATES.has(after)) faultSince = null;
    const change = before === undefined ? `registered (${after})` : `${before} -> ${after}`;
    feed.push(
      entry(meta, 'resource', pool.poolId, pool.regionCode, `pool ${pool.poolId} ${change}`),
    );
  }
  const inventory = pool.inventory;
  return {
    observations,
    feed,
    next: {
      poolId: pool.poolId,
      version: pool.version,
      state: after,
      regionCode: pool.regionCode,
      accelerator: dims.accelerator,
      cpuCoresTotal: inventory?.cpuCoresTotal ?? 0,
      cpuCoresFree: inventory?.cpuCoresFree ?? 0,
      gpuCardsTotal: inventory?.gpuCardsTotal ?? 0,
      gpuCardsFree: inventory?.gpuCardsFree ?? 0,
      npuCardsTotal: inventory?.npuCardsTotal ?? 0,
      npuCardsFree: inventory?.npuCardsFree ?? 0,
      fp16TflopsTotal: inventory?.fp16TflopsTotal ?? 0,
      fp16TflopsFree: inventory?.fp16TflopsFree ?? 0,
      faultSince,
      updatedAt: meta.time,
    },
  };
}

/** The newest known state of a participant. */
export interface ParticipantState {
  participantId: string;
  version: number;
  kind: string;
  state: string;
}

/** A participant lifecycle event: registrations, certifications and transitions by kind. */
export function interpretParticipant(
  meta: EventMeta,
  data: ParticipantEventData,
  previous: ParticipantState | undefined,
): Interpretation & { next?: ParticipantState } {
  if (previous && previous.version >= data.version) return { observations: [], feed: [] };
  const next: ParticipantState = {
    participantId: data.participantId,
    version: data.version,
    kind: data.kind,
    state: data.state,
  };
  // A change of details alone is neither a registration nor a transition.
  if (data.state === data.previousState && meta.type.endsWith('.updated'))
    return { observations: [], feed: [], next };
  const at = meta.time;
  const application = data.kind === 'APPLICATION_PROVIDER';
  const observations: Observation[] = [
    observe('participant_transitions', { kindLabel: data.state }, at),
  ];
  if (data.state === 'SUBMITTED' && data.previousState === null)
    observations.push(observe('participants_registered', { kindLabel: data.kind }, at));
  if (data.state === 'CERTIFIED' && data.previousState !== 'SUSPENDED')
    observations.push(observe('participants_certified', { kindLabel: data.kind }, at));
  if (application) {
    if (data.state === 'SUBMITTED' && data.previousState === null)
      observations.push(observe('application_providers_registered', {}, at));
    if (data.state === 'CERTIFIED' && data.previousState !== 'SUSPENDED')
      observations.push(observe('application_providers_certified', {}, at));
    if (data.state === 'SUSPENDED' || data.state === 'REVOKED')
      observations.push(observe('application_providers_left', {}, at));
  }
  const summary = `${data.kind.toLowerCase()} ${data.legalName}: ${data.previousState ?? 'new'} -> ${data.state}`;
  return {
    observations,
    feed: [entry(meta, application ? 'application' : 'platform', data.participantId, '', summary)],
    next,
  };
}

/** An identifier event: issued, filed, suspended or retired. */
export function interpretIdentifier(
  meta: EventMeta,
  data: { identifier: string } & Partial<IdentifierIssuedData>,
): Interpretation {
  const at = meta.time;
  const verb = meta.type.slice(meta.type.lastIndexOf('.') + 1);
  const objectType = data.objectType ?? '';
  const observations: Observation[] = [];
  if (verb === 'issued') {
    observations.push(observe('identifiers_issued', { kindLabel: objectType }, at));
    if (objectType === 'AS') observations.push(observe('application_services_identified', {}, at));
  } else if (verb === 'filed') {
    observations.push(observe('identifiers_filed', {}, at));
  } else if (verb === 'suspended' || verb === 'retired') {
    observations.push(observe('identifiers_suspended', { kindLabel: verb }, at));
  }
  return {
    observations,
    feed: [
      entry(
        meta,
        objectType === 'AS' ? 'application' : 'platform',
        data.identifier,
        '',
        `identifier ${data.identifier} ${verb}`,
      ),
    ],
  };
}

/** A submitted demand: counted, with whether selection found candidates. */
export function interpretDemand(meta: EventMeta, data: DemandSubmittedData): Interpretation {
  const at = meta.time;
  const dims = { regionCode: data.userRegionCode, kindLabel: data.poolClass };
  const found = data.candidatePoolIds.length;
  return {
    observations: [
      observe('demands_submitted', dims, at),
      observe(found > 0 ? 'demands_with_candidates' : 'demands_without_candidates', dims, at),
      observe('candidates_per_demand', dims, at, found),
    ],
    feed: [
      entry(
        meta,
        'scheduling',
        data.demandId,
        data.userRegionCode,
        `demand ${data.demandId} (class ${data.poolClass}, ${data.acceleratorCount} x ${data.acceleratorModel || 'any'}): ${found} candidate(s) of ${data.considered} pools`,
      ),
    ],
  };
}

/**
 * An order's change of state; `demandSubmittedAt` (when known) times a confirmation from the
 * demand's submission.
 */
export function interpretOrder(
  meta: EventMeta,
  data: OrderEventData,
  demandSubmittedAt: Date | undefined,
): Interpretation {
  const at = meta.time;
  const dims = { regionCode: data.regionCode };
  const observations: Observation[] = [observe('orders', { ...dims, kindLabel: data.state }, at)];
  if (data.state === 'placing') observations.push(observe('holds_requested', dims, at));
  if (data.state === 'refused') observations.push(observe('holds_refused', dims, at));
  if (data.state === 'confirmed') {
    observations.push(observe('holds_confirmed', dims, at));
    if (demandSubmittedAt)
      observations.push(
        observe(
          'demand_to_allocation_ms',
          dims,
          at,
          Math.max(0, Date.parse(data.changedAt) - demandSubmittedAt.getTime()),
        ),
      );
  }
  return {
    observations,
    feed: [
      entry(
        meta,
        'scheduling',
        data.orderId,
        data.regionCode,
        `order ${data.orderId} on pool ${data.poolId}: ${data.previousState ?? 'new'} -> ${data.state}`,
      ),
    ],
  };
}

/** What is known of an allocation before this event. */
export interface AllocationSeen {
  createdAt: Date;
  runningAt: Date | null;
}

/** An allocation created or its task's change of state; the first `running` times the response. */
export function interpretAllocation(
  meta: EventMeta,
  data: AllocationData,
  regionCode: string,
  seen: AllocationSeen | undefined,
): Interpretation & { running?: Date } {
  const at = meta.time;
  const dims = { regionCode };
  const observations: Observation[] = [];
  let running: Date | undefined;
  if (meta.type.endsWith('.created')) observations.push(observe('allocations_created', dims, at));
  else observations.push(observe('tasks', { ...dims, kindLabel: data.state }, at));
  if (data.state === 'running' && seen && !seen.runningAt) {
    running = new Date(data.changedAt);
    observations.push(
      observe(
        'task_response_ms',
        dims,
        at,
        Math.max(0, running.getTime() - seen.createdAt.getTime()),
      ),
    );
  }
  return {
    observations,
    feed: [
      entry(
        meta,
        'scheduling',
        data.allocationId,
        regionCode,
        `allocation ${data.allocationId} on pool ${data.poolId}: task ${data.state}`,
      ),
    ],
    running,
  };
}
