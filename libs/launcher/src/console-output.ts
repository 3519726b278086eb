// Console helpers of the launcher: per-process line prefixes and plain tables (the TypeScript
// twin of scripts/lib/output.mjs, which the Node-only scripts use before anything is built).
const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];
const useColour = process.stdout.isTTY && !process.env['NO_COLOR'];

export function paint(code: number, text: string): string {
  return useColour ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** A function that prints a line with a fixed-width, coloured name prefix. */
export function linePrinter(name: string, index: number, width: number): (line: string) => void {
  const prefix = paint(COLOURS[index % COLOURS.length], `${name.padEnd(width)} |`);
  return (line) => process.stdout.write(`${prefix} ${line}\n`);
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => row[i].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
