import {
  REPORT_SCHEMA_VERSION,
  reportPayloadViolations,
  reportSigningMessage,
} from './national-report';
import { exampleReportPayload as samplePayload } from './national-report.example';

function violationsOf(payload: unknown) {
  return reportPayloadViolations(REPORT_SCHEMA_VERSION, payload);
}

describe('national report payload v1', () => {
  it('accepts a payload with every seed 004 field', () => {
    expect(violationsOf(samplePayload())).toEqual([]);
  });

  it('accepts an empty list of attack events', () => {
    const payload = samplePayload();
    payload.security.attack_events = [];
    expect(violationsOf(payload)).toEqual([]);
  });

  it('names an unknown report type', () => {
    expect(violationsOf({ ...samplePayload(), weather: {} })).toEqual([
      { field: 'payload.weather', description: 'unknown report type' },
    ]);
  });

  it('lists at most 50 problems, and shows unknown names short and harmless', () => {
    const payload: Record<string, unknown> = { ...samplePayload() };
    for (let i = 0; i < 200; i += 1) payload[`extra_${i}`] = {};
    const violations = violationsOf(payload);
    expect(violations).toHaveLength(51);
    expect(violations[50]).toEqual({
      field: 'payload',
      description: '150 more problems not listed',
    });
    const hostile = violationsOf({ ...samplePayload(), [`a\u202e${'b'.repeat(10_000)}`]: {} });
    expect(hostile).toEqual([
      { field: `payload.a\uFFFD${'b'.repeat(62)}`, description: 'unknown report type' },
    ]);
  });

  it('names a missing report type and a missing field', () => {
    const { security: _security, ...rest } = samplePayload();
    const payload = rest as Record<string, unknown>;
    delete (payload['compute'] as Record<string, unknown>)['cpu_cores_free'];
    expect(violationsOf(payload)).toEqual(
      expect.arrayContaining([
        { field: 'payload.security', description: 'is required' },
        { field: 'payload.compute.cpu_cores_free', description: 'is required' },
      ]),
    );
  });

  it('names an unknown field inside a report type', () => {
    const payload = samplePayload() as unknown as { base: Record<string, unknown> };
    payload.base['motto'] = 'x';
    expect(violationsOf(payload)).toEqual([
      { field: 'payload.base.motto', description: 'unknown field' },
    ]);
  });

  it('refuses bad values, naming each with its path', () => {
    const payload = samplePayload();
    payload.compute.cpu_cores_free = -1;
    payload.compute.gpu_cards_free = 1000;
    payload.base.contact_person.email = 'nobody';
    payload.security.attack_events[0].attacker_ip = '999.1.1.1';
    const fields = violationsOf(payload).map((v) => v.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'payload.compute.cpu_cores_free',
        'payload.base.contact_person.email',
        'payload.security.attack_events[0].attacker_ip',
      ]),
    );
  });

  it('refuses free capacity above the total', () => {
    const payload = samplePayload();
    payload.compute.gpu_cards_free = 161;
    expect(violationsOf(payload)).toEqual([
      { field: 'payload.compute.gpu_cards_free', description: 'must not exceed gpu_cards_total' },
    ]);
  });

  it('refuses a fractional count and an unknown severity', () => {
    const payload = samplePayload() as unknown as {
      compute: Record<string, unknown>;
      security: { attack_events: Record<string, unknown>[] };
    };
    payload.compute['cpu_servers'] = 1.5;
    payload.security.attack_events[0]['severity'] = 'apocalyptic';
    expect(violationsOf(payload).map((v) => v.field)).toEqual([
      'payload.compute.cpu_servers',
      'payload.security.attack_events[0].severity',
    ]);
  });

  it('refuses an unknown schema version', () => {
    expect(reportPayloadViolations('2', samplePayload())).toEqual([
      expect.objectContaining({ field: 'schema_version' }),
    ]);
  });
});

describe(reportSigningMessage.name, () => {
  const envelope = {
    reportId: 'A1B2C3D4-0000-4000-8000-000000000001',
    nodeCode: 'R0001',
    kind: 1,
    specialRequestId: '',
    periodStart: new Date('2026-11-30T16:00:00Z'),
    periodEnd: new Date('2026-12-01T16:00:00Z'),
    generatedAt: new Date('2026-12-01T07:10:00+08:00'),
    schemaVersion: '1',
    contentType: 'application/json',
    payloadSha256: 'AB'.repeat(32),
  };

  it('covers every envelope field, case-normalised', () => {
    const message = reportSigningMessage(envelope).toString('utf8');
    expect(message).toContain('report_id=a1b2c3d4-0000-4000-8000-000000000001\n');
    expect(message).toContain(`payload_sha256=${'ab'.repeat(32)}\n`);
    expect(message).toContain('generated_at=2026-11-30T23:10:00.000Z\n');
  });

  it('changes when any signed field changes', () => {
    const base = reportSigningMessage(envelope);
    expect(reportSigningMessage({ ...envelope, nodeCode: 'R0002' })).not.toEqual(base);
    expect(reportSigningMessage({ ...envelope, kind: 2 })).not.toEqual(base);
    expect(
      reportSigningMessage({ ...envelope, periodEnd: new Date('2026-12-01T16:00:00.001Z') }),
    ).not.toEqual(base);
  });
});
