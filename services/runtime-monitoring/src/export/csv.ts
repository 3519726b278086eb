/**
 * One CSV record (RFC 4180): a field holding a comma, quote, CR or LF is quoted with its quotes
 * doubled. A text field a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR)
 * gets a leading apostrophe; numbers are written as they are.
 */
export function csvRecord(fields: readonly (string | number)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: string | number): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Largest chunk ExportCsv sends. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * Groups records into chunks of at most CHUNK_BYTES (a single larger record is a chunk of its
 * own), ending at record boundaries; nothing but the chunk being filled is held.
 */
export async function* chunked(
  records: AsyncIterable<string>,
): AsyncGenerator<{ chunk: Buffer; rows: number }> {
  let parts: Buffer[] = [];
  let size = 0;
  let rows = 0;
  for await (const record of records) {
    const bytes = Buffer.from(record, 'utf8');
    if (size > 0 && size + bytes.length > CHUNK_BYTES) {
      yield { chunk: Buffer.concat(parts, size), rows };
      parts = [];
      size = 0;
      rows = 0;
    }
    parts.push(bytes);
    size += bytes.length;
    rows += 1;
  }
  if (size > 0) yield { chunk: Buffer.concat(parts, size), rows };
}
