import { CREDIT_CODE_CHARSET, creditCodeCheckCharacter, creditCodeProblem } from './credit-code';

describe('unified social credit code', () => {
  // Published codes of real companies (national enterprise credit information publicity system).
  const published = [
    '914403001922038216', // Huawei Technologies Co., Ltd.
    '91440300708461136T', // Shenzhen Tencent Computer Systems Co., Ltd.
    '91330100716105852F', // Alibaba (China) Co., Ltd.
    '91110000100011743X', // China Mobile Communications Group Co., Ltd.
  ];

  it.each(published)('accepts the published code %s', (code) => {
    expect(creditCodeProblem(code)).toBeUndefined();
  });

  it('rejects every single-character change of a valid code', () => {
    const code = published[0];
    for (let i = 0; i < 18; i += 1) {
      for (const c of CREDIT_CODE_CHARSET) {
        if (c === code[i]) continue;
        const changed = code.slice(0, i) + c + code.slice(i + 1);
        expect(creditCodeProblem(changed)).toBeDefined();
      }
    }
  });

  it('maps a weighted sum divisible by 31 to check character 0, not to 31', () => {
    // Weight 28 is coprime with 31, so exactly one last body character makes the sum divisible.
    const bodies = [...CREDIT_CODE_CHARSET].map((c) => `9111000010001174${c}`);
    const checks = bodies.map((b) => creditCodeCheckCharacter(b));
    expect(checks.filter((c) => c === '0')).toHaveLength(1);
    expect(new Set(checks).size).toBe(31);
  });

  it('names the problem: length, alphabet, check character', () => {
    expect(creditCodeProblem('91440300708461136')).toBe('must be 18 characters');
    expect(creditCodeProblem('91440300708461136I')).toMatch(/must use only/);
    expect(creditCodeProblem('9144030070846113AT')).toBe('has a wrong check character');
    expect(creditCodeProblem('91AB0300708461136T')).toMatch(/must use only/);
  });
});
