import { toTimestamp } from '@cinode/grpc';
import type {
  AttackEvent,
  Endpoint,
  Finding,
  PostureResult,
  Quarantine,
  Risk,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { AttackEventEntity } from '../attacks/attack-event.entity';
import type { EndpointEntity, StoredPostureResult } from '../endpoints/endpoint.entity';
import type { FindingEntity } from '../findings/finding.entity';
import type { QuarantineEntity } from '../risk/quarantine.entity';
import type { RiskEntity } from '../risk/risk.entity';
import {
  ASSET_KINDS,
  ATTACK_STATES,
  FINDING_STATUSES,
  HANDLING,
  QUARANTINE_STATES,
  RISK_LEVELS,
  SEVERITIES,
  SUBJECT_KINDS,
} from './enums';

export function toAttackEventMessage(e: AttackEventEntity): AttackEvent {
  return {
    securityEventId: e.securityEventId,
    source: e.source,
    event: {
      eventId: e.eventId,
      attackTime: toTimestamp(e.attackTime),
      attackerIp: e.attackerIp,
      targetIp: e.targetIp,
      attackMethod: e.attackMethod,
      attackedAssetType: e.attackedAssetType,
      ongoing: e.ongoing,
      description: e.description,
      handlingStatus: HANDLING.proto(e.handlingStatus),
      severity: SEVERITIES.proto(e.severity),
      poolId: e.poolId,
    },
    state: ATTACK_STATES.proto(e.state),
    version: e.version,
    recordedAt: toTimestamp(e.recordedAt),
    updatedAt: toTimestamp(e.updatedAt),
    participantId: e.participantId,
    note: e.note,
  };
}

export function toFindingMessage(f: FindingEntity, now = new Date()): Finding {
  return {
    findingId: f.findingId,
    asset: { kind: ASSET_KINDS.proto(f.assetKind), id: f.assetId },
    tool: f.tool,
    ruleId: f.ruleId,
    title: f.title,
    message: f.message,
    severity: SEVERITIES.proto(f.severity),
    cvssScore: f.cvssScore ?? 0,
    cveIds: f.cveIds,
    location: f.location,
    status: FINDING_STATUSES.proto(f.status),
    firstSeenAt: toTimestamp(f.firstSeenAt),
    lastSeenAt: toTimestamp(f.lastSeenAt),
    dueAt: toTimestamp(f.dueAt),
    overdue: (f.status === 'open' || f.status === 'verified') && f.dueAt < now,
    acceptedUntil: f.acceptedUntil ? toTimestamp(f.acceptedUntil) : undefined,
    version: f.version,
    note: f.note,
    helpUri: f.helpUri,
  };
}

export function toPostureResultMessage(r: StoredPostureResult): PostureResult {
  return {
    reachable: r.reachable,
    error: r.error,
    tlsVersion: r.tlsVersion,
    certificateSubject: r.certificateSubject,
    certificateIssuer: r.certificateIssuer,
    certificateNotAfter: r.certificateNotAfter
      ? toTimestamp(new Date(r.certificateNotAfter))
      : undefined,
    issues: r.issues.map((i) => ({
      check: i.check,
      severity: SEVERITIES.proto(i.severity as never),
      message: i.message,
    })),
    checkedAt: toTimestamp(new Date(r.checkedAt)),
  };
}

/**
 * What a participant sees of a check: whether it passed and which checks failed, not what the
 * probed server said (errors, reflected service names): an endpoint a participant registers must
 * not turn the node into its scanner of servers that admit the node's address only.
 */
export function redactedResult(r: StoredPostureResult): StoredPostureResult {
  return {
    ...r,
    error: r.reachable ? '' : 'the endpoint could not be checked',
    issues: r.issues.map((i) => ({ ...i, message: i.check.toLowerCase().replaceAll('_', ' ') })),
  };
}

export function toEndpointMessage(e: EndpointEntity, redact = false): Endpoint {
  const result = e.lastResult && redact ? redactedResult(e.lastResult) : e.lastResult;
  return {
    endpointId: e.endpointId,
    participantId: e.participantId,
    address: e.address,
    purpose: e.purpose,
    createdAt: toTimestamp(e.createdAt),
    lastResult: result ? toPostureResultMessage(result) : undefined,
  };
}

export function toRiskMessage(r: RiskEntity): Risk {
  return {
    subjectKind: SUBJECT_KINDS.proto(r.subjectKind),
    subjectId: r.subjectId,
    score: r.score,
    level: RISK_LEVELS.proto(r.level),
    factors: r.factors.map((f) => ({ factor: f.factor, count: f.count, points: f.points })),
    securityLevelCap: r.securityLevelCap ?? 0,
    quarantined: r.quarantined,
    assessedAt: toTimestamp(r.assessedAt),
    version: r.version,
  };
}

export function toQuarantineMessage(q: QuarantineEntity): Quarantine {
  return {
    quarantineId: q.quarantineId,
    subjectKind: SUBJECT_KINDS.proto(q.subjectKind),
    subjectId: q.subjectId,
    state: QUARANTINE_STATES.proto(q.state),
    reason: q.reason,
    startedAt: toTimestamp(q.startedAt),
    updatedAt: toTimestamp(q.updatedAt),
    actor: q.actor,
    version: q.version,
  };
}
