import { reportPayloadV1Schema } from '@cinode/contracts';
import type { UnitOfWork } from '@cinode/database';
import { toTimestamp } from '@cinode/grpc';
import {
  AttackEventState,
  HandlingStatus,
  Severity,
} from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { ComputeMapSource } from '../compute/resource-aggregation.gateway';
import type { DeliverySender } from '../delivery/delivery.sender';
import type { NodeReportEntity } from '../reports/report.entity';
import type { ReportsRepository } from '../reports/reports.repository';
import type { SecurityEventsSource } from '../security/security.gateway';
import { ReportContent } from '../reports/report-content';
import { DailyReportScheduler } from './daily-report.scheduler';
import { schedulerConfig } from '../../test/scheduler-config';

/** In the window 07:00-08:00 China Standard Time. */
const NOW = new Date('2026-12-01T07:10:00+08:00');

function scheduler(security: SecurityEventsSource, catchUp = false) {
  const inserted: NodeReportEntity[] = [];
  const config = schedulerConfig({ REPORT_CATCH_UP_WINDOWS: catchUp });
  const uow = { run: (work: (tx: unknown) => Promise<unknown>) => work({}) } as UnitOfWork;
  const reports = {
    dailyDays: () => Promise.resolve({ days: new Set(inserted.map((r) => r.reportDate)) }),
    insertIfAbsent: (_tx: unknown, report: NodeReportEntity) => {
      inserted.push(report);
      return Promise.resolve(true);
    },
  } as unknown as ReportsRepository;
  const compute: ComputeMapSource = {
    computeMap: () => Promise.resolve({ cells: [], total: undefined, free: undefined } as never),
  };
  const sender = { wake: () => undefined } as DeliverySender;
  return {
    subject: new DailyReportScheduler(
      config,
      uow,
      reports,
      new ReportContent(config, compute, security),
      sender,
    ),
    inserted,
  };
}

describe(DailyReportScheduler.name, () => {
  it('builds no report while the security service is away, and tries again next round', async () => {
    let away = true;
    const security: SecurityEventsSource = {
      listAttackEvents: () =>
        away
          ? Promise.reject(new Error('14 UNAVAILABLE: connection refused'))
          : Promise.resolve({
              events: [
                {
                  securityEventId: '00000000-0000-7000-8000-000000000001',
                  source: 'prov-1',
                  state: AttackEventState.ATTACK_EVENT_STATE_ACKNOWLEDGED,
                  version: 2,
                  recordedAt: undefined,
                  updatedAt: undefined,
                  participantId: 'prov-1',
                  note: '',
                  event: {
                    eventId: 'ids-1',
                    attackTime: toTimestamp(new Date('2026-11-30T22:15:00+08:00')),
                    attackerIp: '203.0.113.9',
                    targetIp: '10.0.4.17',
                    attackMethod: 'DDoS',
                    attackedAssetType: 'network gateway',
                    ongoing: false,
                    description: 'SYN flood',
                    handlingStatus: HandlingStatus.HANDLING_STATUS_DETECTED,
                    severity: Severity.SEVERITY_CRITICAL,
                    poolId: '',
                  },
                },
              ],
              nextPageToken: '',
            }),
    };
    const { subject, inserted } = scheduler(security);
    expect(await subject.tick(NOW)).toEqual({ built: undefined, gaps: [] });
    expect(inserted).toEqual([]);

    away = false;
    expect(await subject.tick(new Date(NOW.getTime() + 30_000))).toMatchObject({
      built: '2026-12-01',
    });
    const payload = reportPayloadV1Schema.parse(JSON.parse(inserted[0].payload!.toString('utf8')));
    expect(payload.security.attack_events).toEqual([
      expect.objectContaining({ attack_event_id: 'prov-1/ids-1', handling_status: 'handling' }),
    ]);
  });

  it('catches a missed morning window up at noon, and says in which window the report went', async () => {
    const security: SecurityEventsSource = {
      listAttackEvents: () => Promise.resolve({ events: [], nextPageToken: '' }),
    };
    const late = scheduler(security, true);
    expect(await late.subject.tick(new Date('2026-12-01T09:00:00+08:00'))).toEqual({
      built: undefined,
      gaps: [],
    });
    expect(await late.subject.tick(new Date('2026-12-01T12:05:00+08:00'))).toEqual({
      built: '2026-12-01',
      gaps: [],
    });
    expect(late.inserted).toEqual([
      expect.objectContaining({ reportDate: '2026-12-01', window: 'noon', state: 'pending' }),
    ]);
    // Without catching up, the morning's close is the day's gap.
    const strict = scheduler(security, false);
    expect(await strict.subject.tick(new Date('2026-12-01T12:05:00+08:00'))).toEqual({
      built: undefined,
      gaps: ['2026-12-01'],
    });
    expect(strict.inserted).toEqual([
      expect.objectContaining({ reportDate: '2026-12-01', window: 'morning', state: 'missed' }),
    ]);
  });
});
