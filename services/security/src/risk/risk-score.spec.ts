import { levelOf, scoreRisk, securityLevelCapOf } from './risk-score';

describe('scoreRisk', () => {
  it('is 0 and low with nothing open', () => {
    expect(scoreRisk({ findings: [], attacks: [] })).toEqual({
      score: 0,
      level: 'low',
      factors: [],
    });
  });

  it('puts a pool with one open critical finding at high risk, capped at level 1', () => {
    const risk = scoreRisk({
      findings: [{ severity: 'critical', overdue: false, count: 1 }],
      attacks: [],
    });
    expect(risk).toEqual({
      score: 50,
      level: 'high',
      factors: [{ factor: 'finding:critical', count: 1, points: 50 }],
    });
    expect(securityLevelCapOf(risk.level)).toBe(1);
  });

  it('weighs overdue findings half again and caps the total at 100', () => {
    const risk = scoreRisk({
      findings: [
        { severity: 'high', overdue: true, count: 2 },
        { severity: 'medium', overdue: false, count: 1 },
      ],
      attacks: [],
    });
    expect(risk.score).toBe(85);
    expect(risk.level).toBe('critical');
    expect(
      scoreRisk({ findings: [{ severity: 'critical', overdue: true, count: 5 }], attacks: [] })
        .score,
    ).toBe(100);
  });

  it('counts attacks at most 40 points, ongoing ones double', () => {
    const risk = scoreRisk({
      findings: [],
      attacks: [
        { severity: 'high', ongoing: true, count: 1 },
        { severity: 'critical', ongoing: false, count: 3 },
      ],
    });
    expect(risk.factors).toEqual([
      { factor: 'attack:critical', count: 3, points: 40 },
      { factor: 'attack:high:ongoing', count: 1, points: 0 },
    ]);
    expect(risk.score).toBe(40);
  });

  it('adds certification state and half the provider score, rounded up', () => {
    expect(scoreRisk({ findings: [], attacks: [], certificationState: 'SUSPENDED' }).score).toBe(
      30,
    );
    expect(scoreRisk({ findings: [], attacks: [], certificationState: 'REVOKED' }).level).toBe(
      'critical',
    );
    expect(scoreRisk({ findings: [], attacks: [], certificationState: 'CERTIFIED' }).score).toBe(0);
    expect(scoreRisk({ findings: [], attacks: [], providerScore: 35 }).score).toBe(18);
  });

  it('maps scores to levels at 20, 40 and 70', () => {
    expect([0, 19, 20, 39, 40, 69, 70, 100].map(levelOf)).toEqual([
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
      'critical',
      'critical',
    ]);
    expect(securityLevelCapOf('medium')).toBeNull();
    expect(securityLevelCapOf('critical')).toBe(1);
  });
});
