// Narrowing helpers for parsed YAML, whose shape is unknown until checked.

export type Mapping = Record<string, unknown>;

export function mapping(value: unknown): Mapping | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Mapping)
    : undefined;
}

export function list(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** A scalar as compose and Helm read it: numbers and strings compare by their text. */
export function scalar(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}
