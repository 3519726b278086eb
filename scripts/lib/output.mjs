// Console helpers for the runner scripts: per-process line prefixes and plain tables.
const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];
const useColour = process.stdout.isTTY && !process.env.NO_COLOR;

export function paint(code, text) {
  return useColour ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Returns a function that prints each line of a stream with a fixed-width, coloured name prefix. */
export function linePrinter(name, index, width) {
  const prefix = paint(COLOURS[index % COLOURS.length], `${name.padEnd(width)} |`);
  return (line) => process.stdout.write(`${prefix} ${line}\n`);
}

/** Calls onLine for each complete line of a readable stream. */
export function pipeLines(stream, onLine) {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (pending !== '') onLine(pending);
  });
}

export function table(headers, rows) {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => String(row[i]).length)),
  );
  const line = (cells) =>
    cells
      .map((cell, i) => String(cell).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
