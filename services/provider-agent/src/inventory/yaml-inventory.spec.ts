import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InventoryFileError, inventoryOf, parseInventoryFile } from './yaml-inventory';

const EXAMPLE = readFileSync(join(__dirname, '../../examples/inventory.yaml'), 'utf8');

function problemsOf(text: string): Array<{ path: string; line?: number; message: string }> {
  try {
    parseInventoryFile('inventory.yaml', text);
  } catch (error) {
    if (error instanceof InventoryFileError) return [...error.problems];
    throw error;
  }
  throw new Error('the file was accepted');
}

describe(parseInventoryFile.name, () => {
  it('reads the example file', () => {
    const file = parseInventoryFile('inventory.yaml', EXAMPLE);
    expect(file.pools.map((p) => p.key)).toEqual(['sh-lingang-gpu-1', 'gy-guian-npu-1']);
    expect(inventoryOf(file.pools[1])).toMatchObject({
      npuCardsTotal: 128,
      npuCardsFree: 40,
      gpuCardsTotal: 0,
    });
  });

  it('names the path and line of every bad value', () => {
    const text = EXAMPLE.replace(
      'gpu_cards: { total: 32, free: 8 }',
      'gpu_cards: { total: 32, free: 33 }',
    )
      .replace("region_code: '520100'", 'region_code: 520100')
      .replace('security_level: 3 #', 'security_level: 7 #');
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path).sort()).toEqual([
      'pools[0].inventory.gpu_cards.free',
      'pools[0].security_level',
      'pools[1].region_code',
    ]);
    const lines = text.split('\n');
    for (const problem of problems)
      expect(lines[problem.line! - 1]).toMatch(/gpu_cards|region_code|security_level/);
  });

  it('names missing and unknown keys', () => {
    const text = EXAMPLE.replace('      cpu_servers: 24\n', '').replace(
      '    pue: 1.18\n',
      '    pue: 1.18\n    colour: blue\n',
    );
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'pools[1].inventory.cpu_servers: is required',
      "pools[1]: Unrecognized key(s) in object: 'colour'",
    ]);
  });

  it('refuses a pool key used twice', () => {
    const text = EXAMPLE.replace('key: gy-guian-npu-1', 'key: sh-lingang-gpu-1');
    expect(problemsOf(text)).toEqual([
      { path: 'pools[1].key', line: 33, message: 'repeats the key of pools[0]' },
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf('pools:\n  - key: a\n    name: [unclosed\n');
    expect(problems[0]).toMatchObject({ path: '(yaml)' });
    expect(problems[0].line).toBeGreaterThanOrEqual(3);
  });
});
