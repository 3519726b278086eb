import { z } from 'zod';
import { defineEvent, defineEventSource, defineStream, textOf } from './contract';

/** The security service's stream: attack events, findings, risk and quarantine (system F). */
export const SECURITY_STREAM = defineStream({
  name: 'SECURITY',
  subjects: ['cinode.security.>'],
  owner: 'security',
  description: 'Attack events, vulnerability findings, risk levels and quarantines (security)',
});

export const SECURITY_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type SecuritySeverity = (typeof SECURITY_SEVERITIES)[number];

/** Risk levels, lowest first; `critical` quarantines the subject. */
export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevelName = (typeof RISK_LEVELS)[number];

/** What a risk level or a quarantine is about. */
export const RISK_SUBJECT_KINDS = ['participant', 'pool'] as const;
export type RiskSubjectKind = (typeof RISK_SUBJECT_KINDS)[number];

/** Operator workflow of an attack event. */
export const ATTACK_EVENT_STATES = [
  'new',
  'acknowledged',
  'mitigating',
  'resolved',
  'false_positive',
] as const;
export type AttackEventStateName = (typeof ATTACK_EVENT_STATES)[number];

export const FINDING_STATUSES = [
  'open',
  'verified',
  'mitigated',
  'false_positive',
  'risk_accepted',
] as const;
export type FindingStatusName = (typeof FINDING_STATUSES)[number];

export const ASSET_KINDS = ['node_service', 'participant', 'pool'] as const;
export type AssetKindName = (typeof ASSET_KINDS)[number];

const version = z.number().int().positive().safe();
const time = z.string().datetime();

/** An attack event as of `version` (1 when recorded, one more for each change). */
export const attackEventData = z.object({
  securityEventId: z.string().uuid(),
  version,
  /** Who reported it: a provider's participant id, or `node:<service>` for the node's sensors. */
  source: textOf(1, 140),
  eventId: textOf(1, 128),
  severity: z.enum(SECURITY_SEVERITIES),
  state: z.enum(ATTACK_EVENT_STATES),
  ongoing: z.boolean(),
  attackTime: time,
  /** The participant whose assets were attacked (the reporting provider), when known. */
  participantId: textOf(0, 128),
  /** The attacked pool's identifier, when the attack was on one. */
  poolId: textOf(0, 64),
});
export type AttackEventData = z.infer<typeof attackEventData>;

export const AttackEventRecorded = defineEvent({
  type: 'cinode.security.attack-event.recorded',
  stream: SECURITY_STREAM,
  schemaVersion: 1,
  schema: attackEventData,
  description: 'A provider or a node sensor reported an attack event not seen before.',
});

export const AttackEventUpdated = defineEvent({
  type: 'cinode.security.attack-event.updated',
  stream: SECURITY_STREAM,
  schemaVersion: 1,
  schema: attackEventData,
  description:
    'An attack event changed: its reporter updated it (ongoing, handling) or an operator moved it.',
});

/** A vulnerability finding as of `version`. */
export const findingData = z.object({
  findingId: z.string().uuid(),
  version,
  assetKind: z.enum(ASSET_KINDS),
  assetId: textOf(1, 128),
  tool: textOf(1, 200),
  ruleId: textOf(1, 1000),
  severity: z.enum(SECURITY_SEVERITIES),
  status: z.enum(FINDING_STATUSES),
  /** When the finding must be fixed by (its severity's SLA from when it was first seen). */
  dueAt: time,
});
export type FindingData = z.infer<typeof findingData>;

export const FindingOpened = defineEvent({
  type: 'cinode.security.finding.opened',
  stream: SECURITY_STREAM,
  schemaVersion: 1,
  schema: findingData,
  description: 'A scan or a posture check found a vulnerability not open before on that asset.',
});

export const FindingUpdated = defineEvent({
  type: 'cinode.security.finding.updated',
  stream: SECURITY_STREAM,
  schemaVersion: 1,
  schema: findingData,
  description:
    'A finding changed status (verified, mitigated, false positive, risk accepted, reopened).',
});

/**
 * A subject's risk as of `version` (per subject, one more for each change). For a pool,
 * `securityLevelCap` and `quarantined` already include its provider's risk and quarantine:
 * a consumer needs only the pool's own events.
 */
export const riskChangedData = z.object({
  subjectKind: z.enum(RISK_SUBJECT_KINDS),
  subjectId: textOf(1, 128),
  version,
  score: z.number().int().min(0).max(100),
  level: z.enum(RISK_LEVELS),
  previousLevel: z.enum(RISK_LEVELS),
  /**
   * For a pool: the highest security protection level (等保) selection may credit it with while
   * the risk lasts; null when its claimed level stands. Always null for a participant.
   */
  securityLevelCap: z.number().int().min(1).max(4).nullable(),
  /** The subject (or, for a pool, its provider) is quarantined: out of selection, calls refused. */
  quarantined: z.boolean(),
  /** For a pool: its provider's participant id; empty for a participant. */
  providerParticipantId: textOf(0, 128),
  assessedAt: time,
});
export type RiskChangedData = z.infer<typeof riskChangedData>;

export const RiskChanged = defineEvent({
  type: 'cinode.security.risk.changed',
  stream: SECURITY_STREAM,
  schemaVersion: 1,
  schema: riskChangedData,
  description:
    "A participant's or pool's risk score, level, security-level cap or quarantine changed.",
});

export const QUARANTINE_STATES = ['active', 'confirmed', 'lifted'] as const;
export type QuarantineStateName = (typeof QUARANTINE_STATES)[number];

export const quarantineData = z.object({
  quarantineId: z.string().uuid(),
  version,
  subjectKind: z.enum(RISK_SUBJECT_KINDS),
  subjectId: textOf(1, 128),
  state: z.enum(QUARANTINE_STATES),
  reason: textOf(0, 500),
  /** Who changed it last: `security` for the risk engine, else an operator's subject. */
  actor: textOf(1, 128),
  changedAt: time,
});
export type QuarantineData = z.infer<typeof quarantineData>;

export const QuarantineChanged = defineEvent({
  type: 'cinode.security.quarantine.changed',
  stream: SECURITY_STREAM,
  schemaVersion: 1,
  schema: quarantineData,
  description:
    'A quarantine began on critical risk, was confirmed or lifted by an operator, or lapsed.',
});

/** The risk events, for consumers that apply a pool's or participant's restrictions. */
export const RiskChanges = defineEventSource({
  stream: SECURITY_STREAM,
  filterSubject: 'cinode.security.risk.>',
  events: [RiskChanged],
});

/** Every security event, for monitoring. */
export const SecurityChanges = defineEventSource({
  stream: SECURITY_STREAM,
  filterSubject: 'cinode.security.>',
  events: [
    AttackEventRecorded,
    AttackEventUpdated,
    FindingOpened,
    FindingUpdated,
    RiskChanged,
    QuarantineChanged,
  ],
});

/**
 * The JetStream key-value bucket that lists quarantined participants, one key per participant
 * id (the value: the quarantine's id and state as JSON). The security service keeps it; the shared
 * gRPC layer of every service watches it and refuses a quarantined participant's calls.
 */
export const QUARANTINE_BUCKET = 'cinode-quarantine';
