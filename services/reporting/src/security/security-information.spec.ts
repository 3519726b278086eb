import { attackEventSchema, securityInformationSchema } from '@cinode/contracts';
import { fromTimestamp, toTimestamp } from '@cinode/grpc';
import {
  AttackEventState,
  HandlingStatus,
  Severity,
  type AttackEvent,
  type ListAttackEventsRequest,
  type ListAttackEventsResponse,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { SecurityEventsSource } from './security.gateway';
import {
  attackEventIdOf,
  reportedAttackEventOf,
  securityInformationOf,
} from './security-information';

const PERIOD_START = new Date('2026-11-30T07:10:00+08:00');
const PERIOD_END = new Date('2026-12-01T07:10:00+08:00');

let serial = 0;
function attack(overrides: Partial<AttackEvent> = {}, input: Partial<AttackEvent['event']> = {}) {
  serial += 1;
  return {
    securityEventId: `00000000-0000-7000-8000-${String(serial).padStart(12, '0')}`,
    source: 'prov-1',
    state: AttackEventState.ATTACK_EVENT_STATE_NEW,
    version: 1,
    recordedAt: undefined,
    updatedAt: undefined,
    participantId: 'prov-1',
    note: '',
    ...overrides,
    event: {
      eventId: `ids-${serial}`,
      attackTime: toTimestamp(new Date('2026-11-30T22:15:00+08:00')),
      attackerIp: '203.0.113.9',
      targetIp: '10.0.4.17',
      attackMethod: 'SSH brute force',
      attackedAssetType: 'host',
      ongoing: true,
      description: '1,200 failed logins in 5 minutes',
      handlingStatus: HandlingStatus.HANDLING_STATUS_DETECTED,
      severity: Severity.SEVERITY_HIGH,
      poolId: '',
      ...input,
    },
  } satisfies AttackEvent;
}

/** The security service's listing over a fixed set of events, `pageSize` at a time. */
class FakeSecurity implements SecurityEventsSource {
  readonly requests: ListAttackEventsRequest[] = [];
  constructor(private readonly events: AttackEvent[]) {}

  listAttackEvents(request: ListAttackEventsRequest): Promise<ListAttackEventsResponse> {
    this.requests.push(request);
    const from = request.pageToken ? Number(request.pageToken) : 0;
    const next = from + request.pageSize;
    return Promise.resolve({
      events: this.events.slice(from, next),
      nextPageToken: next < this.events.length ? String(next) : '',
    });
  }
}

describe(securityInformationOf.name, () => {
  it('asks for the events changed in the period that happened before its end, without false positives', async () => {
    const security = new FakeSecurity([attack()]);
    const { information, leftOut } = await securityInformationOf(
      security,
      PERIOD_START,
      PERIOD_END,
    );
    expect(securityInformationSchema.parse(information)).toEqual(information);
    expect(leftOut).toBe(0);
    const [request] = security.requests;
    expect(fromTimestamp(request.updatedFrom!)).toEqual(PERIOD_START);
    expect(fromTimestamp(request.attackTimeTo!)).toEqual(PERIOD_END);
    expect(request.attackTimeFrom).toBeUndefined();
    expect(request.excludeFalsePositives).toBe(true);
  });

  it('maps an event to the seed-004 shape, times in China Standard Time', () => {
    const event = attack({ source: 'prov-7' }, { eventId: 'ids-0001', poolId: 'pool-1' });
    const reported = reportedAttackEventOf(event);
    expect(reported).toEqual({
      attack_event_id: 'prov-7/ids-0001',
      attack_time: '2026-11-30T22:15:00.000+08:00',
      attacker_ip: '203.0.113.9',
      target_ip: '10.0.4.17',
      attack_method: 'SSH brute force',
      attacked_asset_type: 'host',
      ongoing: true,
      description: '1,200 failed logins in 5 minutes',
      handling_status: 'detected',
      severity: 'high',
    });
    expect(attackEventSchema.parse(reported)).toEqual(reported);
    expect(reportedAttackEventOf(attack({}, { description: ' ' })).description).toBe(
      'SSH brute force on host',
    );
  });

  it('reports the more advanced of the reporter status and the operator handling', () => {
    const cases: Array<[HandlingStatus, AttackEventState, string]> = [
      [
        HandlingStatus.HANDLING_STATUS_DETECTED,
        AttackEventState.ATTACK_EVENT_STATE_NEW,
        'detected',
      ],
      [
        HandlingStatus.HANDLING_STATUS_DETECTED,
        AttackEventState.ATTACK_EVENT_STATE_ACKNOWLEDGED,
        'handling',
      ],
      [
        HandlingStatus.HANDLING_STATUS_DETECTED,
        AttackEventState.ATTACK_EVENT_STATE_MITIGATING,
        'handling',
      ],
      [
        HandlingStatus.HANDLING_STATUS_MITIGATED,
        AttackEventState.ATTACK_EVENT_STATE_MITIGATING,
        'mitigated',
      ],
      [
        HandlingStatus.HANDLING_STATUS_HANDLING,
        AttackEventState.ATTACK_EVENT_STATE_RESOLVED,
        'resolved',
      ],
      [
        HandlingStatus.HANDLING_STATUS_RESOLVED,
        AttackEventState.ATTACK_EVENT_STATE_NEW,
        'resolved',
      ],
    ];
    for (const [status, state, expected] of cases)
      expect(
        reportedAttackEventOf(attack({ state }, { handlingStatus: status })).handling_status,
      ).toBe(expected);
  });

  it('names an event by its source and id, or by the node id when that is too long for the schema', () => {
    expect(attackEventIdOf(attack({ source: 'node:runtime-monitoring' }, { eventId: 'e1' }))).toBe(
      'node:runtime-monitoring/e1',
    );
    const long = attack({ source: 'p'.repeat(60) }, { eventId: 'e'.repeat(128) });
    expect(attackEventIdOf(long)).toBe(long.securityEventId);
  });

  it('keeps the most severe, then the newest, when there are more than a report carries, across pages', async () => {
    const at = (hour: number) => toTimestamp(new Date(Date.UTC(2026, 10, 30, hour)));
    const events = [
      attack({}, { severity: Severity.SEVERITY_LOW, attackTime: at(20) }),
      attack({}, { severity: Severity.SEVERITY_CRITICAL, attackTime: at(1) }),
      attack({}, { severity: Severity.SEVERITY_HIGH, attackTime: at(2) }),
      attack({}, { severity: Severity.SEVERITY_HIGH, attackTime: at(5) }),
      attack({}, { severity: Severity.SEVERITY_MEDIUM, attackTime: at(23) }),
      ...Array.from({ length: 1_500 }, () =>
        attack({}, { severity: Severity.SEVERITY_LOW, attackTime: at(3) }),
      ),
    ];
    const security = new FakeSecurity(events);
    const { information, leftOut } = await securityInformationOf(
      security,
      PERIOD_START,
      PERIOD_END,
      4,
    );
    expect(security.requests.map((r) => r.pageToken)).toEqual(
      Array.from({ length: 8 }, (_, i) => (i === 0 ? '' : String(i * 200))),
    );
    expect(information.attack_events.map((e) => e.attack_event_id)).toEqual(
      [events[1], events[3], events[2], events[4]].map(attackEventIdOf),
    );
    expect(leftOut).toBe(events.length - 4);
  });

  it("clips free text to the national schema's limits, counted as it counts them", async () => {
    const emoji = '😀'.repeat(150);
    const reported = reportedAttackEventOf(
      attack(
        {},
        { attackMethod: emoji, attackedAssetType: emoji, description: '描'.repeat(5_000) },
      ),
    );
    expect(attackEventSchema.safeParse(reported).success).toBe(true);
    expect(reported.attack_method.length).toBeLessThanOrEqual(200);
    expect(reported.attack_method.endsWith('…')).toBe(true);
    // No half of a surrogate pair is left behind.
    expect(reported.attack_method).toBe(`${'😀'.repeat(99)}…`);
  });

  it('keeps the most important events within the byte budget of a report', async () => {
    const events = Array.from({ length: 600 }, (_, i) =>
      attack(
        {},
        {
          severity: i % 2 ? Severity.SEVERITY_LOW : Severity.SEVERITY_CRITICAL,
          description: 'x'.repeat(4_000),
        },
      ),
    );
    const { information, leftOut } = await securityInformationOf(
      new FakeSecurity(events),
      PERIOD_START,
      PERIOD_END,
      10_000,
      400_000,
    );
    const bytes = Buffer.byteLength(JSON.stringify(information.attack_events));
    expect(bytes).toBeLessThanOrEqual(400_000);
    expect(information.attack_events.length).toBeGreaterThan(80);
    expect(information.attack_events.every((e) => e.severity === 'critical')).toBe(true);
    expect(leftOut).toBe(600 - information.attack_events.length);
  });

  it('fails when the security service cannot be asked', async () => {
    const away: SecurityEventsSource = {
      listAttackEvents: () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')),
    };
    await expect(securityInformationOf(away, PERIOD_START, PERIOD_END)).rejects.toThrow(
      'UNAVAILABLE',
    );
  });
});
