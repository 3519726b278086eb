import {
  NATIONAL_REPORT_WINDOWS,
  addCstDays,
  cstDateOf,
  cstMidnight,
  parseReportWindow,
  windowAt,
  windowBounds,
} from './report-windows';

describe('report windows (China Standard Time)', () => {
  it('takes the CST date, which runs 8 hours ahead of UTC', () => {
    expect(cstDateOf(new Date('2026-12-01T15:59:59.999Z'))).toBe('2026-12-01');
    expect(cstDateOf(new Date('2026-12-01T16:00:00.000Z'))).toBe('2026-12-02');
  });

  it('puts CST midnight at 16:00 UTC of the day before', () => {
    expect(cstMidnight('2026-12-01').toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(() => cstMidnight('2026-02-30')).toThrow();
  });

  it('places the three windows at fixed UTC times all year, with no daylight saving', () => {
    // Dates on which DST-observing zones switch; CST does not.
    for (const date of ['2026-03-08', '2026-03-29', '2026-10-25', '2026-11-01']) {
      const [morning, noon, evening] = NATIONAL_REPORT_WINDOWS.map((w) => windowBounds(date, w));
      expect(morning.start.toISOString().slice(11)).toBe('23:00:00.000Z');
      expect(morning.end.getTime() - morning.start.getTime()).toBe(3_600_000);
      expect(noon.start.toISOString().slice(11)).toBe('04:00:00.000Z');
      expect(evening.start.toISOString().slice(11)).toBe('11:00:00.000Z');
    }
  });

  it('counts days of exactly 24 hours across month and year ends', () => {
    expect(addCstDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCstDays('2028-03-01', -1)).toBe('2028-02-29');
  });

  it('finds the window an instant falls in, start inclusive and end exclusive', () => {
    expect(windowAt(new Date('2026-11-30T23:00:00.000Z'))?.name).toBe('morning');
    expect(windowAt(new Date('2026-12-01T00:00:00.000Z'))).toBeUndefined();
    expect(windowAt(new Date('2026-12-01T04:59:59.999Z'))?.name).toBe('noon');
    expect(windowAt(new Date('2026-12-01T11:30:00.000Z'))?.name).toBe('evening');
  });

  it('parses a configured window and names the official ones', () => {
    expect(parseReportWindow('12:00-13:00')).toEqual({
      name: 'noon',
      startMinute: 720,
      endMinute: 780,
    });
    expect(parseReportWindow('23:30-24:00')).toEqual({
      name: '23:30-24:00',
      startMinute: 1410,
      endMinute: 1440,
    });
    expect(parseReportWindow('08:00-07:00')).toMatch(/end after/);
    expect(parseReportWindow('7-8')).toMatch(/look like/);
    expect(parseReportWindow('25:00-26:00')).toMatch(/valid/);
  });
});
