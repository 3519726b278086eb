import {
  CST_OFFSET_MS,
  type AttackEvent as ReportedAttackEvent,
  type SecurityInformation,
} from '@cinode/contracts';
import { fromTimestamp, toTimestamp } from '@cinode/grpc';
import {
  AttackEventState,
  HandlingStatus,
  Severity,
  type AttackEvent,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { SecurityEventsSource } from './security.gateway';

/** The most attack events one report carries (securityInformationSchema's maximum). */
export const MAX_REPORTED_ATTACK_EVENTS = 10_000;
/**
 * Most bytes (UTF-8 JSON) the attack events of one report may take: the payload's limit is 4 MiB,
 * and base and compute information take a few kilobytes. Beyond it the least important are left out.
 */
export const MAX_REPORTED_ATTACK_BYTES = 3 * 1024 * 1024;
/** Events asked for per ListAttackEvents page (the security service's maximum). */
const PAGE_SIZE = 200;
/** The national schema's limits (UTF-16 units, as zod counts) of the free-text fields. */
const TEXT_LIMITS = { attack_method: 200, attacked_asset_type: 200, description: 4_000 } as const;
/** attack_event_id's maximum length in the national schema. */
const MAX_ID_LENGTH = 128;

/** Handling statuses, least advanced first. */
const HANDLING_ORDER = ['detected', 'handling', 'mitigated', 'resolved'] as const;
type HandlingName = (typeof HANDLING_ORDER)[number];

export interface SecurityInformationResult {
  information: SecurityInformation;
  /** Events of the period left out because there were more than a report carries. */
  leftOut: number;
}

/**
 * The security information of a report covering `periodStart`..`periodEnd`: the attack events
 * that happened before the period's end and changed during it (an attack still handled in the
 * period is reported again with its new state), false positives left out. When there are more than
 * a report carries (10,000, or 3 MiB of JSON), the most severe and then the newest are kept. Throws when the security service
 * cannot be asked: a report is never built with its security section silently empty.
 */
export async function securityInformationOf(
  source: SecurityEventsSource,
  periodStart: Date,
  periodEnd: Date,
  max: number = MAX_REPORTED_ATTACK_EVENTS,
  maxBytes: number = MAX_REPORTED_ATTACK_BYTES,
): Promise<SecurityInformationResult> {
  let kept: AttackEvent[] = [];
  let seen = 0;
  let pageToken = '';
  do {
    const page = await source.listAttackEvents({
      state: AttackEventState.ATTACK_EVENT_STATE_UNSPECIFIED,
      minSeverity: Severity.SEVERITY_UNSPECIFIED,
      source: '',
      attackTimeFrom: undefined,
      attackTimeTo: toTimestamp(periodEnd),
      updatedFrom: toTimestamp(periodStart),
      pageSize: PAGE_SIZE,
      pageToken,
      excludeFalsePositives: true,
    });
    const reportable = page.events.filter(
      (event) => event.state !== AttackEventState.ATTACK_EVENT_STATE_FALSE_POSITIVE && event.event,
    );
    seen += reportable.length;
    kept.push(...reportable);
    // Bounded memory however many there are: trim to the ones kept so far now and then.
    if (kept.length >= 2 * max) kept = mostImportant(kept).slice(0, max);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const reported: ReportedAttackEvent[] = [];
  let bytes = 0;
  for (const event of mostImportant(kept).slice(0, max)) {
    const mapped = reportedAttackEventOf(event);
    const size = Buffer.byteLength(JSON.stringify(mapped)) + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    reported.push(mapped);
  }
  return { information: { attack_events: reported }, leftOut: seen - reported.length };
}

/** Most severe first, then the newest attack, then by id (a stable order). */
function mostImportant(events: AttackEvent[]): AttackEvent[] {
  return [...events].sort(
    (a, b) =>
      (b.event?.severity ?? 0) - (a.event?.severity ?? 0) ||
      attackTimeOf(b) - attackTimeOf(a) ||
      a.securityEventId.localeCompare(b.securityEventId),
  );
}

function attackTimeOf(event: AttackEvent): number {
  return event.event?.attackTime ? fromTimestamp(event.event.attackTime).getTime() : 0;
}

/** One attack event as seed 004 reports it. */
export function reportedAttackEventOf(event: AttackEvent): ReportedAttackEvent {
  const input = event.event;
  if (!input) throw new Error(`attack event ${event.securityEventId} has no content`);
  return {
    attack_event_id: attackEventIdOf(event),
    attack_time: cstTime(input.attackTime ? fromTimestamp(input.attackTime) : new Date(0)),
    attacker_ip: input.attackerIp,
    target_ip: input.targetIp,
    attack_method: clipText(input.attackMethod, TEXT_LIMITS.attack_method),
    attacked_asset_type: clipText(input.attackedAssetType, TEXT_LIMITS.attacked_asset_type),
    ongoing: input.ongoing,
    // The schema wants a description; a reporter may have sent none.
    description: clipText(
      input.description.trim() || `${input.attackMethod} on ${input.attackedAssetType}`,
      TEXT_LIMITS.description,
    ),
    handling_status: moreAdvanced(handlingOf(input.handlingStatus), handlingOfState(event.state)),
    severity: severityOf(input.severity),
  };
}

/**
 * At most `max` UTF-16 units (what the national schema counts), cut with '…' and never inside a
 * surrogate pair: the security service counts characters, so its limits allow longer strings.
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Unique in the report: reporters choose their event ids, so two may use the same one. The source
 * (a participant id, or `node:<service>`) and the reporter's id, `source/event_id`; when that is
 * longer than the schema's 128 characters (ids of up to 140 and 128), the node's own id of the
 * event (a UUID), which is unique too and the same in every report.
 */
export function attackEventIdOf(event: AttackEvent): string {
  const id = `${event.source}/${event.event?.eventId ?? ''}`;
  return id.length <= MAX_ID_LENGTH ? id : event.securityEventId;
}

/** RFC 3339 in China Standard Time (+08:00), to the millisecond. */
export function cstTime(instant: Date): string {
  return new Date(instant.getTime() + CST_OFFSET_MS).toISOString().replace('Z', '+08:00');
}

function handlingOf(status: HandlingStatus): HandlingName {
  switch (status) {
    case HandlingStatus.HANDLING_STATUS_HANDLING:
      return 'handling';
    case HandlingStatus.HANDLING_STATUS_MITIGATED:
      return 'mitigated';
    case HandlingStatus.HANDLING_STATUS_RESOLVED:
      return 'resolved';
    default:
      return 'detected';
  }
}

/** What the operator's handling says of the defence. */
function handlingOfState(state: AttackEventState): HandlingName {
  switch (state) {
    case AttackEventState.ATTACK_EVENT_STATE_ACKNOWLEDGED:
    case AttackEventState.ATTACK_EVENT_STATE_MITIGATING:
      return 'handling';
    case AttackEventState.ATTACK_EVENT_STATE_RESOLVED:
      return 'resolved';
    default:
      return 'detected';
  }
}

function moreAdvanced(a: HandlingName, b: HandlingName): HandlingName {
  return HANDLING_ORDER.indexOf(a) >= HANDLING_ORDER.indexOf(b) ? a : b;
}

function severityOf(severity: Severity): ReportedAttackEvent['severity'] {
  switch (severity) {
    case Severity.SEVERITY_CRITICAL:
      return 'critical';
    case Severity.SEVERITY_HIGH:
      return 'high';
    case Severity.SEVERITY_MEDIUM:
      return 'medium';
    default:
      return 'low';
  }
}
