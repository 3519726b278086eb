import { CHUNK_BYTES, chunked, csvRecord } from './csv';

async function* records(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

describe('csvRecord', () => {
  it('quotes fields with commas, quotes and line breaks, and disarms formulas', () => {
    expect(csvRecord(['a', 'b,c', 'say "hi"', 'two\nlines', 3.5, -1])).toBe(
      'a,"b,c","say ""hi""","two\nlines",3.5,-1\r\n',
    );
    expect(csvRecord(['=cmd()', '+1', '@x', '-x'])).toBe("'=cmd(),'+1,'@x,'-x\r\n");
  });
});

describe('chunked', () => {
  it('cuts chunks at record boundaries below the chunk size and keeps every record', async () => {
    const line = `${'x'.repeat(1000)}\r\n`;
    const chunks: { chunk: Buffer; rows: number }[] = [];
    for await (const c of chunked(records(Array.from({ length: 200 }, () => line)))) chunks.push(c);
    expect(chunks.every((c) => c.chunk.length <= CHUNK_BYTES)).toBe(true);
    expect(chunks.reduce((n, c) => n + c.rows, 0)).toBe(200);
    expect(Buffer.concat(chunks.map((c) => c.chunk)).toString()).toBe(line.repeat(200));
    expect(chunks.map((c) => c.chunk.toString().endsWith('\r\n'))).not.toContain(false);
  });
});
