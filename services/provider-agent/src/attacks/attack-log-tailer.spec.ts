import {
  appendFileSync,
  mkdtempSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttackLogTailer } from './attack-log-tailer';

describe(AttackLogTailer.name, () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'attack-log-'));
    path = join(dir, 'attacks.jsonl');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the whole file at start, then only what was appended since', async () => {
    writeFileSync(path, '{"n":1}\n{"n":2}\n');
    const tailer = new AttackLogTailer(path);
    expect((await tailer.read()).lines).toEqual(['{"n":1}', '{"n":2}']);
    expect((await tailer.read()).lines).toEqual([]);
    appendFileSync(path, '{"n":3}\r\n\n{"n":4}\n');
    expect((await tailer.read()).lines).toEqual(['{"n":3}', '{"n":4}']);
  });

  it('holds back a last line without its newline until it is complete', async () => {
    writeFileSync(path, '{"n":1}\n{"n":');
    const tailer = new AttackLogTailer(path);
    expect((await tailer.read()).lines).toEqual(['{"n":1}']);
    appendFileSync(path, '2}');
    expect((await tailer.read()).lines).toEqual([]);
    appendFileSync(path, '\n');
    expect((await tailer.read()).lines).toEqual(['{"n":2}']);
  });

  it('starts over from the beginning when the file shrinks (truncated)', async () => {
    writeFileSync(path, '{"n":1}\n{"n":2}\n');
    const tailer = new AttackLogTailer(path);
    await tailer.read();
    truncateSync(path, 0);
    appendFileSync(path, '{"n":3}\n');
    expect(await tailer.read()).toMatchObject({ lines: ['{"n":3}'], restarted: 'truncated' });
  });

  it('starts over when the file is replaced (rotated), and waits while it is missing', async () => {
    writeFileSync(path, '{"n":1}\n{"n":2}\n{"n":3}\n');
    const tailer = new AttackLogTailer(path);
    await tailer.read();
    renameSync(path, `${path}.1`);
    expect((await tailer.read()).lines).toEqual([]);
    writeFileSync(`${path}.new`, '{"n":4}\n{"n":5}\n{"n":6}\n{"n":7}\n');
    renameSync(`${path}.new`, path);
    expect(await tailer.read()).toMatchObject({
      lines: ['{"n":4}', '{"n":5}', '{"n":6}', '{"n":7}'],
      restarted: 'replaced',
    });
  });

  it('reads a large file a slice at a time, and skips a line longer than a slice', async () => {
    writeFileSync(path, `{"n":1}\n{"n":2}\n${'x'.repeat(40)}\n{"n":3}\n`);
    const tailer = new AttackLogTailer(path, 20);
    const first = await tailer.read();
    expect(first).toMatchObject({ lines: ['{"n":1}', '{"n":2}'], more: true });
    const seen: string[] = [];
    let skipped = 0;
    for (let n = 0; n < 10; n += 1) {
      const read = await tailer.read();
      seen.push(...read.lines);
      skipped += read.skippedBytes;
    }
    expect(seen).toEqual(['{"n":3}']);
    expect(skipped).toBe(40);
  });
});
