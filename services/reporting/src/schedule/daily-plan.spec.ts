import { NATIONAL_REPORT_WINDOWS, parseReportWindow, type ReportWindow } from '@cinode/contracts';
import { dailyWindows, planDaily } from './daily-plan';

const morning = NATIONAL_REPORT_WINDOWS[0];
const evening = NATIONAL_REPORT_WINDOWS[2];
const cst = (local: string) => new Date(`${local}+08:00`);

describe(planDaily.name, () => {
  it('builds the day’s report once its window opens, in China Standard Time', () => {
    // 07:00 CST is 23:00 UTC of the day before.
    expect(
      planDaily(
        cst('2026-12-01T06:59:59.999'),
        [morning],
        new Set(['2026-11-30']),
        '2026-11-30',
        7,
      ),
    ).toEqual({
      gaps: [],
    });
    expect(
      planDaily(cst('2026-12-01T07:00:00'), [morning], new Set(['2026-11-30']), '2026-11-30', 7)
        .build,
    ).toBe('2026-12-01');
    expect(
      planDaily(new Date('2026-11-30T23:30:00Z'), [morning], new Set(), undefined, 7).build,
    ).toBe('2026-12-01');
  });

  it('does not build a day that has its entry already', () => {
    const plan = planDaily(
      cst('2026-12-01T19:10:00'),
      [evening],
      new Set(['2026-12-01']),
      undefined,
      7,
    );
    expect(plan).toEqual({ gaps: [] });
  });

  it('records a gap for today once the window has closed without a report', () => {
    expect(planDaily(cst('2026-12-01T08:00:00'), [morning], new Set(), undefined, 7)).toEqual({
      gaps: ['2026-12-01'],
    });
  });

  it('records a gap for every missed day since the first entry, within the lookback', () => {
    const plan = planDaily(
      cst('2026-12-05T07:30:00'),
      [morning],
      new Set(['2026-12-01', '2026-12-03']),
      '2026-12-01',
      7,
    );
    expect(plan).toEqual({
      build: '2026-12-05',
      window: morning,
      gaps: ['2026-12-02', '2026-12-04'],
    });
    const bounded = planDaily(cst('2026-12-05T09:00:00'), [morning], new Set(), '2026-11-01', 2);
    expect(bounded.gaps).toEqual(['2026-12-03', '2026-12-04', '2026-12-05']);
  });

  it('records the missed days older than the lookback, from the last day recorded before it', () => {
    // Down from 2 Dec to 12 Dec with a lookback of 2 days: the days of 3 to 9 Dec, before the
    // lookback, are gaps too.
    const plan = planDaily(
      cst('2026-12-12T09:00:00'),
      [morning],
      new Set(),
      '2026-11-01',
      2,
      '2026-12-02',
    );
    expect(plan.gaps).toEqual([
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
      '2026-12-07',
      '2026-12-08',
      '2026-12-09',
      '2026-12-10',
      '2026-12-11',
      '2026-12-12',
    ]);
    // A last day inside the lookback changes nothing: the lookback's days are checked one by one.
    expect(
      planDaily(
        cst('2026-12-12T09:00:00'),
        [morning],
        new Set(['2026-12-11']),
        '2026-11-01',
        2,
        '2026-12-09',
      ).gaps,
    ).toEqual(['2026-12-10', '2026-12-12']);
  });

  it('handles a configured window ending at midnight CST across the UTC date line', () => {
    const late = parseReportWindow('23:00-24:00') as ReportWindow;
    // 23:30 CST on 1 Dec is 15:30 UTC on 1 Dec; midnight CST is 16:00 UTC.
    expect(planDaily(new Date('2026-12-01T15:30:00Z'), [late], new Set(), undefined, 7).build).toBe(
      '2026-12-01',
    );
    expect(planDaily(new Date('2026-12-01T16:00:00Z'), [late], new Set(), '2026-12-01', 7)).toEqual(
      {
        gaps: ['2026-12-01'],
      },
    );
  });

  it('keeps the windows at the same UTC times on dates other zones change their clocks', () => {
    for (const day of ['2026-03-29', '2026-10-25', '2026-03-08', '2026-11-01'])
      expect(
        planDaily(new Date(`${day}T11:00:00Z`), [evening], new Set(), undefined, 7).build,
      ).toBe(day);
  });

  it('catches up a missed window in the later national windows of the day, and only then records a gap', () => {
    const windows = dailyWindows(morning, true);
    expect(windows.map((w) => w.name)).toEqual(['morning', 'noon', 'evening']);
    expect(dailyWindows(evening, true).map((w) => w.name)).toEqual(['evening']);
    expect(dailyWindows(morning, false).map((w) => w.name)).toEqual(['morning']);
    // Down through the morning window: nothing between windows, a build at noon.
    expect(
      planDaily(cst('2026-12-01T09:00:00'), windows, new Set(['2026-11-30']), '2026-11-30', 7),
    ).toEqual({
      gaps: [],
    });
    const noon = planDaily(
      cst('2026-12-01T12:30:00'),
      windows,
      new Set(['2026-11-30']),
      '2026-11-30',
      7,
    );
    expect(noon).toEqual({ build: '2026-12-01', window: NATIONAL_REPORT_WINDOWS[1], gaps: [] });
    // The day's last window closed without one: a gap. Without catching up, at the morning's close.
    expect(
      planDaily(cst('2026-12-01T19:59:59'), windows, new Set(['2026-11-30']), '2026-11-30', 7)
        .build,
    ).toBe('2026-12-01');
    expect(
      planDaily(cst('2026-12-01T20:00:00'), windows, new Set(['2026-11-30']), '2026-11-30', 7),
    ).toEqual({
      gaps: ['2026-12-01'],
    });
    expect(
      planDaily(
        cst('2026-12-01T12:30:00'),
        dailyWindows(morning, false),
        new Set(['2026-11-30']),
        '2026-11-30',
        7,
      ),
    ).toEqual({ gaps: ['2026-12-01'] });
    // A day reported in any window is done.
    expect(
      planDaily(
        cst('2026-12-01T19:10:00'),
        windows,
        new Set(['2026-11-30', '2026-12-01']),
        '2026-11-30',
        7,
      ),
    ).toEqual({ gaps: [] });
  });
});
