import type { RiskLevelName, SecuritySeverity } from '@cinode/contracts';
import type { RiskFactorRecord } from './risk.entity';

/**
 * The risk score, 0–100, of a participant or a pool: points for what is open against it now.
 *
 * | input                                              | points each                         |
 * | -------------------------------------------------- | ----------------------------------- |
 * | open or verified finding on the subject            | critical 50, high 25, medium 10, low 3; ×1.5 when overdue |
 * | attack event on it within the attack window        | critical 20, high 10, medium 4, low 1; ×2 while ongoing; at most 40 in all |
 * | (participant) certification suspended / revoked    | 30 / 70                             |
 * | (pool) its provider's score                        | half of it, rounded up              |
 *
 * False-positive attack events, and mitigated, false-positive or (until it lapses) risk-accepted
 * findings count nothing. The sum is capped at 100. Levels: low below 20, medium below 40, high
 * below 70, critical from 70. A pool at high risk is credited with security protection level 1 at
 * most; a subject that turns critical is quarantined.
 */
export const FINDING_POINTS: Record<SecuritySeverity, number> = {
  critical: 50,
  high: 25,
  medium: 10,
  low: 3,
};
export const ATTACK_POINTS: Record<SecuritySeverity, number> = {
  critical: 20,
  high: 10,
  medium: 4,
  low: 1,
};
export const ATTACK_POINTS_MAX = 40;
export const OVERDUE_FACTOR = 1.5;
export const ONGOING_FACTOR = 2;
export const CERTIFICATION_POINTS: Readonly<Record<string, number>> = {
  SUSPENDED: 30,
  REVOKED: 70,
};
export const PROVIDER_SHARE = 0.5;

const SEVERITY_ORDER: readonly SecuritySeverity[] = ['critical', 'high', 'medium', 'low'];

export interface FindingCount {
  severity: SecuritySeverity;
  overdue: boolean;
  count: number;
}

export interface AttackCount {
  severity: SecuritySeverity;
  ongoing: boolean;
  count: number;
}

export interface RiskInputs {
  findings: readonly FindingCount[];
  attacks: readonly AttackCount[];
  /** A participant's certification state (service center); undefined for a pool or when unknown. */
  certificationState?: string;
  /** A pool's provider's score; undefined for a participant. */
  providerScore?: number;
}

export interface RiskScore {
  score: number;
  level: RiskLevelName;
  factors: RiskFactorRecord[];
}

export function levelOf(score: number): RiskLevelName {
  if (score >= 70) return 'critical';
  if (score >= 40) return 'high';
  if (score >= 20) return 'medium';
  return 'low';
}

/** The highest security level a pool at this risk level is credited with; null: its own stands. */
export function securityLevelCapOf(level: RiskLevelName): number | null {
  return level === 'high' || level === 'critical' ? 1 : null;
}

export function scoreRisk(inputs: RiskInputs): RiskScore {
  const factors: RiskFactorRecord[] = [];
  let total = 0;
  for (const severity of SEVERITY_ORDER) {
    for (const overdue of [false, true]) {
      const count = sum(
        inputs.findings.filter((f) => f.severity === severity && f.overdue === overdue),
      );
      if (count === 0) continue;
      const points = Math.round(count * FINDING_POINTS[severity] * (overdue ? OVERDUE_FACTOR : 1));
      factors.push({ factor: `finding:${severity}${overdue ? ':overdue' : ''}`, count, points });
      total += points;
    }
  }
  let attackPoints = 0;
  for (const severity of SEVERITY_ORDER) {
    for (const ongoing of [false, true]) {
      const count = sum(
        inputs.attacks.filter((a) => a.severity === severity && a.ongoing === ongoing),
      );
      if (count === 0) continue;
      const raw = count * ATTACK_POINTS[severity] * (ongoing ? ONGOING_FACTOR : 1);
      const points = Math.min(raw, ATTACK_POINTS_MAX - attackPoints);
      attackPoints += points;
      factors.push({ factor: `attack:${severity}${ongoing ? ':ongoing' : ''}`, count, points });
    }
  }
  total += attackPoints;
  const certification = inputs.certificationState
    ? (CERTIFICATION_POINTS[inputs.certificationState] ?? 0)
    : 0;
  if (certification > 0) {
    factors.push({
      factor: `certification:${inputs.certificationState!.toLowerCase()}`,
      count: 1,
      points: certification,
    });
    total += certification;
  }
  if (inputs.providerScore !== undefined && inputs.providerScore > 0) {
    const points = Math.ceil(inputs.providerScore * PROVIDER_SHARE);
    factors.push({ factor: 'provider', count: 1, points });
    total += points;
  }
  const score = Math.min(100, Math.max(0, Math.round(total)));
  return { score, level: levelOf(score), factors };
}

function sum(counts: readonly { count: number }[]): number {
  return counts.reduce((n, c) => n + c.count, 0);
}
