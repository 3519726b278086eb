import { identityCheckCharacter, identityNumberProblem } from './identity-number';

describe('resident identity number', () => {
  it('accepts the examples of GB 11643-1999', () => {
    expect(identityNumberProblem('11010519491231002X')).toBeUndefined();
    expect(identityNumberProblem('440524188001010014')).toBeUndefined();
  });

  it('computes the ISO 7064 MOD 11-2 check character', () => {
    expect(identityCheckCharacter('11010519491231002')).toBe('X');
    expect(identityCheckCharacter('44052418800101001')).toBe('4');
  });

  it('rejects a wrong check character, an impossible date and a bad shape', () => {
    expect(identityNumberProblem('110105194912310021')).toBe('has a wrong check character');
    expect(identityNumberProblem('110105194902300020')).toBe('has an impossible birth date');
    expect(identityNumberProblem('11010519491231002')).toMatch(/17 digits/);
    expect(identityNumberProblem('01010519491231002X')).toMatch(/17 digits/);
  });
});
