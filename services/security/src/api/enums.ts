import type {
  AssetKindName,
  AttackEventStateName,
  FindingStatusName,
  QuarantineStateName,
  RiskLevelName,
  RiskSubjectKind,
  SecuritySeverity,
} from '@cinode/contracts';
import {
  AssetKind,
  AttackEventState,
  FindingStatus,
  HandlingStatus,
  QuarantineState,
  RiskLevel,
  Severity,
  SubjectKind,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { HandlingStatusName } from '../attacks/attack-event.entity';

/** Both directions of one proto enum ↔ name mapping; UNSPECIFIED maps to undefined. */
class EnumMap<P extends number, N extends string> {
  private readonly byName: Map<N, P>;
  constructor(private readonly byProto: ReadonlyMap<P, N>) {
    this.byName = new Map([...byProto].map(([p, n]) => [n, p]));
  }
  name(value: P): N | undefined {
    return this.byProto.get(value);
  }
  proto(name: N): P {
    return this.byName.get(name)!;
  }
}

export const SEVERITIES = new EnumMap<Severity, SecuritySeverity>(
  new Map([
    [Severity.SEVERITY_LOW, 'low'],
    [Severity.SEVERITY_MEDIUM, 'medium'],
    [Severity.SEVERITY_HIGH, 'high'],
    [Severity.SEVERITY_CRITICAL, 'critical'],
  ]),
);

/** Severities from least to most severe: a "minimum severity" filter takes a suffix. */
export const SEVERITY_RANK: Record<SecuritySeverity, number> = {
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};

export const HANDLING = new EnumMap<HandlingStatus, HandlingStatusName>(
  new Map([
    [HandlingStatus.HANDLING_STATUS_DETECTED, 'detected'],
    [HandlingStatus.HANDLING_STATUS_HANDLING, 'handling'],
    [HandlingStatus.HANDLING_STATUS_MITIGATED, 'mitigated'],
    [HandlingStatus.HANDLING_STATUS_RESOLVED, 'resolved'],
  ]),
);

export const ATTACK_STATES = new EnumMap<AttackEventState, AttackEventStateName>(
  new Map([
    [AttackEventState.ATTACK_EVENT_STATE_NEW, 'new'],
    [AttackEventState.ATTACK_EVENT_STATE_ACKNOWLEDGED, 'acknowledged'],
    [AttackEventState.ATTACK_EVENT_STATE_MITIGATING, 'mitigating'],
    [AttackEventState.ATTACK_EVENT_STATE_RESOLVED, 'resolved'],
    [AttackEventState.ATTACK_EVENT_STATE_FALSE_POSITIVE, 'false_positive'],
  ]),
);

export const ASSET_KINDS = new EnumMap<AssetKind, AssetKindName>(
  new Map([
    [AssetKind.ASSET_KIND_NODE_SERVICE, 'node_service'],
    [AssetKind.ASSET_KIND_PARTICIPANT, 'participant'],
    [AssetKind.ASSET_KIND_POOL, 'pool'],
  ]),
);

export const FINDING_STATUSES = new EnumMap<FindingStatus, FindingStatusName>(
  new Map([
    [FindingStatus.FINDING_STATUS_OPEN, 'open'],
    [FindingStatus.FINDING_STATUS_VERIFIED, 'verified'],
    [FindingStatus.FINDING_STATUS_MITIGATED, 'mitigated'],
    [FindingStatus.FINDING_STATUS_FALSE_POSITIVE, 'false_positive'],
    [FindingStatus.FINDING_STATUS_RISK_ACCEPTED, 'risk_accepted'],
  ]),
);

export const RISK_LEVELS = new EnumMap<RiskLevel, RiskLevelName>(
  new Map([
    [RiskLevel.RISK_LEVEL_LOW, 'low'],
    [RiskLevel.RISK_LEVEL_MEDIUM, 'medium'],
    [RiskLevel.RISK_LEVEL_HIGH, 'high'],
    [RiskLevel.RISK_LEVEL_CRITICAL, 'critical'],
  ]),
);

export const RISK_LEVEL_RANK: Record<RiskLevelName, number> = {
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};

export const SUBJECT_KINDS = new EnumMap<SubjectKind, RiskSubjectKind>(
  new Map([
    [SubjectKind.SUBJECT_KIND_PARTICIPANT, 'participant'],
    [SubjectKind.SUBJECT_KIND_POOL, 'pool'],
  ]),
);

export const QUARANTINE_STATES = new EnumMap<QuarantineState, QuarantineStateName>(
  new Map([
    [QuarantineState.QUARANTINE_STATE_ACTIVE, 'active'],
    [QuarantineState.QUARANTINE_STATE_CONFIRMED, 'confirmed'],
    [QuarantineState.QUARANTINE_STATE_LIFTED, 'lifted'],
  ]),
);
