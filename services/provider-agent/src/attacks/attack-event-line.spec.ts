import { fromTimestamp } from '@cinode/grpc';
import {
  HandlingStatus,
  Severity,
  SubmitAttackEventsRequest,
  type AttackEventInput,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import { AttackLineError, attackEventOfLine } from './attack-event-line';

const LINE = {
  event_id: 'ids-2026-0001',
  attack_time: '2026-03-01T10:15:30+08:00',
  attacker_ip: '203.0.113.9',
  target_ip: '10.0.4.17',
  attack_method: 'SSH brute force',
  attacked_asset_type: 'host',
  ongoing: true,
  description: '1,200 failed logins in 5 minutes',
  handling_status: 'handling',
  severity: 'high',
  pool_id: 'pool-7',
};

describe(attackEventOfLine.name, () => {
  it('maps a line to the SubmitAttackEvents input, and it survives the wire', () => {
    const input = attackEventOfLine(JSON.stringify(LINE));
    expect(input).toEqual<AttackEventInput>({
      eventId: 'ids-2026-0001',
      attackTime: expect.anything() as AttackEventInput['attackTime'],
      attackerIp: '203.0.113.9',
      targetIp: '10.0.4.17',
      attackMethod: 'SSH brute force',
      attackedAssetType: 'host',
      ongoing: true,
      description: '1,200 failed logins in 5 minutes',
      handlingStatus: HandlingStatus.HANDLING_STATUS_HANDLING,
      severity: Severity.SEVERITY_HIGH,
      poolId: 'pool-7',
    });
    expect(fromTimestamp(input.attackTime!).toISOString()).toBe('2026-03-01T02:15:30.000Z');
    const request: SubmitAttackEventsRequest = { events: [input] };
    expect(
      SubmitAttackEventsRequest.decode(SubmitAttackEventsRequest.encode(request).finish()),
    ).toEqual(request);
  });

  it('leaves the optional pool and description empty when absent', () => {
    const { pool_id: _pool, description: _description, ...rest } = LINE;
    expect(attackEventOfLine(JSON.stringify(rest))).toMatchObject({ poolId: '', description: '' });
  });

  it.each([
    ['not JSON', '{"event_id": "x"', /not JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    [
      'a missing field',
      JSON.stringify({ ...LINE, attacker_ip: undefined }),
      /attacker_ip is missing/,
    ],
    [
      'a time without offset',
      JSON.stringify({ ...LINE, attack_time: '2026-03-01T10:15:30' }),
      /RFC 3339/,
    ],
    [
      'an unknown status',
      JSON.stringify({ ...LINE, handling_status: 'ignored' }),
      /handling_status must be one of/,
    ],
    [
      'an unknown severity',
      JSON.stringify({ ...LINE, severity: 'extreme' }),
      /severity must be one of/,
    ],
    [
      "a severity named after an object's own property",
      JSON.stringify({ ...LINE, severity: 'constructor' }),
      /severity must be one of/,
    ],
    [
      'ongoing as a string',
      JSON.stringify({ ...LINE, ongoing: 'yes' }),
      /ongoing must be true or false/,
    ],
  ])('refuses %s', (_what, line, message) => {
    expect(() => attackEventOfLine(line)).toThrow(AttackLineError);
    expect(() => attackEventOfLine(line)).toThrow(message);
  });
});
