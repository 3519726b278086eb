import { toTimestamp } from '@cinode/grpc';
import {
  HandlingStatus,
  Severity,
  type AttackEventInput,
} from '@cinode/proto/gen/cinode/security/v1/security_service';

const HANDLING_STATUSES: Readonly<Record<string, HandlingStatus>> = {
  detected: HandlingStatus.HANDLING_STATUS_DETECTED,
  handling: HandlingStatus.HANDLING_STATUS_HANDLING,
  mitigated: HandlingStatus.HANDLING_STATUS_MITIGATED,
  resolved: HandlingStatus.HANDLING_STATUS_RESOLVED,
};

const SEVERITIES: Readonly<Record<string, Severity>> = {
  low: Severity.SEVERITY_LOW,
  medium: Severity.SEVERITY_MEDIUM,
  high: Severity.SEVERITY_HIGH,
  critical: Severity.SEVERITY_CRITICAL,
};

/** RFC 3339 with a time zone (Z or ±hh:mm), fractions of a second allowed. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A line of the attack events file that is no attack event; the agent logs it and goes on. */
export class AttackLineError extends Error {}

/**
 * One line of the intrusion-detection system's JSON-lines file as the SubmitAttackEvents input.
 * Only the shape is checked here (what the request could not carry otherwise: JSON, types, the
 * enumerations, the time); the node checks the rest (address syntax, lengths, the clock) and names
 * the events it refuses.
 */
export function attackEventOfLine(line: string): AttackEventInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new AttackLineError('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new AttackLineError('not a JSON object');
  const record = parsed as Record<string, unknown>;
  const problems: string[] = [];
  const text = (key: string, required = true): string => {
    const value = record[key];
    if (value === undefined || value === null) {
      if (required) problems.push(`${key} is missing`);
      return '';
    }
    if (typeof value !== 'string') {
      problems.push(`${key} must be a string`);
      return '';
    }
    return value;
  };
  const oneOf = <T>(key: string, values: Readonly<Record<string, T>>): T | undefined => {
    const value = text(key);
    // Own keys only: "constructor" or "__proto__" are no severity.
    const known = Object.hasOwn(values, value);
    if (value !== '' && !known)
      problems.push(`${key} must be one of ${Object.keys(values).join(', ')}`);
    return known ? values[value] : undefined;
  };
  const eventId = text('event_id');
  const attackTime = text('attack_time');
  const at = new Date(attackTime);
  if (attackTime !== '' && (!RFC3339.test(attackTime) || Number.isNaN(at.getTime())))
    problems.push('attack_time must be an RFC 3339 time with its offset');
  const ongoing = record['ongoing'];
  if (typeof ongoing !== 'boolean') problems.push('ongoing must be true or false');
  const input: AttackEventInput = {
    eventId,
    attackTime: Number.isNaN(at.getTime()) ? undefined : toTimestamp(at),
    attackerIp: text('attacker_ip'),
    targetIp: text('target_ip'),
    attackMethod: text('attack_method'),
    attackedAssetType: text('attacked_asset_type'),
    ongoing: ongoing === true,
    description: text('description', false),
    handlingStatus:
      oneOf('handling_status', HANDLING_STATUSES) ?? HandlingStatus.HANDLING_STATUS_UNSPECIFIED,
    severity: oneOf('severity', SEVERITIES) ?? Severity.SEVERITY_UNSPECIFIED,
    poolId: text('pool_id', false),
  };
  if (problems.length > 0)
    throw new AttackLineError(`${eventId ? `event ${eventId}: ` : ''}${problems.join('; ')}`);
  return input;
}
